// The delegate page (/join): request the floor, see one's place in line, speak and yield,
// the microphone, who speaks now and next, chat. Observers get the request only when the
// meeting lets observers speak.

import { ChatPanel } from "./chat.js";
import { currentLanguage, languageName, onLanguage, t } from "./i18n.js";
import { isLive, mayRequest, queuePosition, remainingMs, requestOf } from "./state.js";
import { $, announce, duration, el, reportError, run, scheduler, setText, startPage, who } from "./ui.js";

const UN_LANGUAGES = ["ar", "zh", "en", "fr", "ru", "es"];

const client = startPage();
const chat = new ChatPanel({
  client,
  log: $("#chat-log"),
  form: $("#chat-form"),
  to: $("#chat-to"),
  text: $("#chat-text"),
});

let announced = null; // the last status announced, so that each change is said once
let langsFor = null;

function me(state) {
  return state.participants[client.you.participant];
}

/** What this participant's position is: floor · interrupted · queued:N · idle. */
function myStatus(state) {
  const pid = client.you.participant;
  if (state.floor?.participant === pid) return "floor";
  if (state.interrupted.some((f) => f.participant === pid)) return "interrupted";
  const position = queuePosition(state, pid);
  return position > 0 ? `queued:${position}` : "idle";
}

function speakingLanguages(state) {
  const own = me(state)?.lang;
  const key = `${own}|${currentLanguage()}`;
  if (langsFor === key) return;
  langsFor = key;
  const select = $("#speak-lang");
  const chosen = select.value || own || currentLanguage();
  const codes = [...UN_LANGUAGES];
  if (own && !codes.includes(own)) codes.push(own);
  select.replaceChildren(...codes.map((code) => el("option", { text: languageName(code), attrs: { value: code } })));
  select.value = codes.includes(chosen) ? chosen : "en";
}

function drawMyStatus(state) {
  const status = myStatus(state);
  const box = $("#mystatus");
  box.dataset.state = status.split(":")[0];
  const request = requestOf(state, client.you.participant);
  let text = "";
  if (status === "floor") text = t("join.you_have_floor");
  else if (status === "interrupted") text = t("join.interrupted");
  else if (request) {
    const position = queuePosition(state, client.you.participant);
    text = `${t("join.position", { n: position })} · ${t(`kind.${request.kind}`)}`;
  } else if (mayRequest(state, client.you.role)) text = t("join.not_in_line");
  setText($("#mystatus-text"), text);
  $("#yield").hidden = status !== "floor";
  $("#withdraw").hidden = !request;
  $("#my-countdown").hidden = status !== "floor";
  $("#my-paused").hidden = !(status === "floor" && state.floor.running_since == null);

  const canRequest = mayRequest(state, client.you.role) && status === "idle";
  $("#request-form").hidden = !canRequest;
  $("#observer-note").hidden = mayRequest(state, client.you.role);
  const speak = $("#request-form input[value=speak]");
  speak.disabled = !state.list_open;
  if (!state.list_open && speak.checked) speak.checked = false;
  if (state.list_open && !$("#request-form input[name=kind]:checked")) speak.checked = true;
  $("#list-closed-note").hidden = state.list_open;
  speakingLanguages(state);

  if (status !== announced) {
    if (status === "floor") announce(t("join.you_have_floor"), { assertive: true });
    else if (status.startsWith("queued:")) announce(t("join.position", { n: Number(status.slice(7)) }));
    else if (status === "interrupted") announce(t("join.interrupted"));
    else if (announced === "floor") announce(t("join.floor_ended"));
    else if (announced?.startsWith("queued:")) announce(t("join.left_line"));
    announced = status;
  }
}

function drawMic(state) {
  const p = me(state);
  const button = $("#mic");
  if (!p || p.role === "display") {
    button.hidden = true;
    return;
  }
  const live = isLive(state, p);
  button.disabled = p.hard_muted;
  button.setAttribute("aria-pressed", String(p.self_muted || p.hard_muted));
  setText(button, p.self_muted ? t("mic.unmute") : t("mic.mute"));
  const mic = $("#mic-state");
  let text;
  if (p.hard_muted) text = t("mic.hard_muted");
  else if (live) text = t("mic.live");
  else if (p.self_muted) text = t("mic.self_muted");
  else text = t("mic.closed_until_floor");
  mic.dataset.state = p.hard_muted ? "hard" : live ? "live" : p.self_muted ? "muted" : "closed";
  setText(mic, text);
  const key = p.hard_muted ? "hard" : "free";
  if (drawMic.last && drawMic.last !== key) announce(key === "hard" ? t("mic.hard_muted") : t("mic.hard_lifted"));
  drawMic.last = key;
}

function drawNow(state) {
  const floor = state.floor;
  setText($("#now-speaker"), floor ? speakerLine(state, floor) : t("now.nobody"));
  const next = $("#next-list");
  const heads = state.queue.slice(0, 5);
  const items = heads.map((r) =>
    el(
      "li",
      { class: `next-item kind-${r.kind}` },
      el("span", { class: "next-name", text: who(state, r.participant) }),
      r.kind !== "speak" ? el("span", { class: `badge kind-${r.kind}`, text: t(`kind.${r.kind}`) }) : null,
    ),
  );
  if (state.queue.length > heads.length) {
    items.push(el("li", { class: "next-more", text: t("next.more", { n: state.queue.length - heads.length }) }));
  }
  if (items.length === 0) items.push(el("li", { class: "muted-text", text: t("next.empty") }));
  next.replaceChildren(...items);
}

function speakerLine(state, floor) {
  const base = who(state, floor.participant);
  return floor.kind === "speak" ? base : `${base} — ${t(`kind.${floor.kind}`)}`;
}

function drawHeader(state) {
  setText($("#meeting-title"), state.meeting?.title || "Floor");
  document.title = `${state.meeting?.title || "Floor"} — ${t("join.title")}`;
  const p = me(state);
  setText($("#me"), p ? `${p.name} · ${p.delegation} · ${t(`role.${p.role}`)}` : "");
  const status = $("#meeting-status");
  const s = state.meeting?.status || "open";
  status.hidden = s === "open";
  status.dataset.status = s;
  setText(status, t(`meeting.${s}`));
}

/** The countdowns: mine and the speaker's, four times a second. */
function tick() {
  const state = client.state;
  if (!state) return;
  const floor = state.floor;
  const text = floor ? countdown(floor) : "";
  setText($("#now-countdown"), text);
  setText($("#my-countdown"), text);
  const over = floor && floor.limit_s > 0 && remainingMs(floor, client.now()) < 0;
  $("#now-countdown").classList.toggle("over", Boolean(over));
  $("#my-countdown").classList.toggle("over", Boolean(over));
}

function countdown(floor) {
  const left = remainingMs(floor, client.now());
  if (left == null) return t("floor.no_limit");
  return duration(left);
}

function draw() {
  const state = client.state;
  if (!state || !client.you) return;
  drawHeader(state);
  drawMyStatus(state);
  drawMic(state);
  drawNow(state);
  chat.update(state);
  tick();
}

const render = scheduler(draw);
client.on("state", render);
onLanguage(() => {
  langsFor = null;
  render();
});
setInterval(tick, 250);

$("#request-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const kind = $("#request-form input[name=kind]:checked")?.value || "speak";
  run($("#request"), client.command("floor.request", { kind, lang: $("#speak-lang").value }), reportError);
});
$("#withdraw").addEventListener("click", (e) => run(e.currentTarget, client.command("floor.withdraw", {}), reportError));
$("#yield").addEventListener("click", (e) => run(e.currentTarget, client.command("floor.release", {}), reportError));
$("#mic").addEventListener("click", (e) => {
  const p = me(client.state);
  if (!p) return;
  run(e.currentTarget, client.command("mute.set", { muted: !p.self_muted }), reportError);
});

client.start();
