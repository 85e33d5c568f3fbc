// What the three pages share: building DOM from data as TEXT ONLY, the connection banner,
// the language switcher, live announcements, durations, and a render scheduler.
//
// Nothing here ever assigns innerHTML: names, delegations and chat are participants' text
// and go through textContent (text nodes) only.

import { FloorClient, tokenFromHash } from "./protocol.js";
import {
  chooseLanguage,
  clockTime,
  currentLanguage,
  LANGUAGES,
  onLanguage,
  setLanguage,
  t,
} from "./i18n.js";

/** An element: `el("li", {class: "x", text: name, attrs: {...}, on: {click}}, ...children)`. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text != null) node.textContent = String(props.text);
  if (props.attrs) {
    for (const [name, value] of Object.entries(props.attrs)) {
      if (value === false || value == null) continue;
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  if (props.on) {
    for (const [name, handler] of Object.entries(props.on)) node.addEventListener(name, handler);
  }
  for (const child of children) {
    if (child == null || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** Sets a node's text only when it changed (cheap to call on every tick). */
export function setText(node, text) {
  const value = String(text ?? "");
  if (node.textContent !== value) node.textContent = value;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

/** "3:05", "1:02:03", "−0:12" (a true minus sign), from milliseconds. */
export function duration(ms) {
  const negative = ms < 0;
  const total = negative ? Math.ceil(-ms / 1000) : Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const body = h > 0 ? `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
  return negative ? `\u2212${body}` : body;
}

/** Elapsed time as "m:ss", rounding down (waiting times). */
export function elapsed(ms) {
  return duration(Math.max(0, Math.floor(ms / 1000) * 1000));
}

/**
 * Runs `render` at most once per animation frame however many times it is requested;
 * a timeout backs the frame up where frames are throttled (hidden tabs).
 */
export function scheduler(render) {
  let pending = false;
  let frame = 0;
  let timer = 0;
  const run = () => {
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    pending = false;
    render();
  };
  return () => {
    if (pending) return;
    pending = true;
    frame = requestAnimationFrame(run);
    timer = setTimeout(run, 100);
  };
}

/** The live regions: polite for news, assertive for "You have the floor". */
export function announce(text, { assertive = false } = {}) {
  const region = document.getElementById(assertive ? "announce-assertive" : "announce-polite");
  if (!region) return;
  region.textContent = "";
  // a fresh text node, a moment later, so that screen readers speak a repeated message
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

/** The person behind a participant id: "Name (Delegation)". */
export function who(state, pid) {
  const p = state?.participants?.[pid];
  if (!p) return t("someone");
  return p.delegation ? `${p.name} (${p.delegation})` : p.name;
}

/** Fills the `<select id="lang-select">` switcher and keeps it in step. */
function languageSwitcher() {
  const select = document.getElementById("lang-select");
  if (!select) return;
  select.replaceChildren(
    ...LANGUAGES.map(({ code, name }) =>
      el("option", { text: name, attrs: { value: code, lang: code } }),
    ),
  );
  select.value = currentLanguage();
  select.addEventListener("change", () => setLanguage(select.value, { remember: true }));
  onLanguage((lang) => {
    select.value = lang;
  });
}

/** The connection banner: hidden while connected, else what is wrong and since when. */
function connectionBanner(client) {
  const banner = document.getElementById("connection");
  if (!banner) return;
  const text = el("span", { class: "connection-text" });
  const retry = el("button", {
    class: "button small",
    attrs: { type: "button", hidden: true },
    on: { click: () => client.reconnectNow() },
  });
  banner.replaceChildren(el("span", { class: "connection-dot", attrs: { "aria-hidden": "true" } }), text, retry);
  const show = () => {
    const { status, since, reason } = client.connection;
    banner.dataset.status = status;
    banner.hidden = status === "connected";
    const time = clockTime(since);
    let message;
    if (status === "connecting") message = t("conn.connecting");
    else if (status === "reconnecting") message = t("conn.reconnecting", { time });
    else message = t(`conn.stopped.${reason || "other"}`, { time });
    setText(text, message);
    retry.textContent = t("conn.retry");
    retry.hidden = !(status === "stopped" && ["policy", "other"].includes(reason || "other"));
    document.body.dataset.connection = status;
  };
  client.on("connection", (connection) => {
    show();
    if (connection.status === "reconnecting") announce(t("conn.lost"));
    else if (connection.status === "connected") announce(t("conn.back"));
    else if (connection.status === "stopped") announce(banner.textContent, { assertive: true });
  });
  onLanguage(show);
  show();
}

/**
 * Starts a page: the language (from the URL or the browser until the welcome tells the
 * participant's own), the switcher, the connection banner, and the protocol client.
 */
export function startPage() {
  setLanguage(chooseLanguage(null));
  languageSwitcher();
  const client = new FloorClient({ token: tokenFromHash() });
  window.floorClient = client; // for the console and the browser tests: state, connection
  connectionBanner(client);
  let first = true;
  client.on("welcome", (welcome) => {
    if (!first) return;
    first = false;
    const me = client.state?.participants?.[welcome.you.participant];
    const lang = chooseLanguage(me?.lang);
    if (lang !== currentLanguage()) setLanguage(lang);
  });
  return client;
}

/** Disables a button while its command is in flight; reports a rejection politely. */
export async function run(button, promise, onError) {
  if (button) button.disabled = true;
  try {
    return await promise;
  } catch (error) {
    if (onError) onError(error);
    else announce(errorText(error), { assertive: true });
    return null;
  } finally {
    if (button) button.disabled = false;
  }
}

/** A rejected command in words, in the interface language. */
export function errorText(error) {
  const code = error?.code || "internal";
  const known = t(`error.${code}`);
  return known === `error.${code}` ? error.message || code : known;
}

/** Shows a short message in the page's toast area (and announces it). */
export function toast(text) {
  const area = document.getElementById("toast");
  if (!area) return;
  area.textContent = text;
  area.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    area.hidden = true;
  }, 5000);
}

export function reportError(error) {
  const text = errorText(error);
  toast(text);
  announce(text, { assertive: true });
}
