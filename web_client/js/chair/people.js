// The participants panel, virtualised: only the rows in view (and a few either side)
// exist, each built once per participant and refilled when what it shows changes; sorting
// by name, the filters (text, delegation, presence, attendance, microphone), each row's
// actions (seat, mute, inscribe, give the floor, message), and "Mute all".

import { onLanguage, t } from "../i18n.js";
import { isLive } from "../state.js";
import { $, el, scheduler, setText } from "../ui.js";
import { chat } from "./chat.js";
import { client, command } from "./client.js";
import { armed } from "./confirm.js";
import { closeSeatEditor, openSeatEditor } from "./seats.js";

const ROW_HEIGHT = 60; // px, one participant row (keep in step with .person in floor.css)
const OVERSCAN = 8;

const collator = new Intl.Collator(undefined, { sensitivity: "base" });
const filters = { text: "", delegation: "", presence: "", attendance: "", mute: "" };
let sorted = { participants: null, list: [] };
let filtered = { key: null, list: [] };
const rows = new Map(); // participant id -> {li, p, online, live}

function sortedPeople(state) {
  if (sorted.participants !== state.participants) {
    const list = Object.values(state.participants).filter((p) => p.role !== "display");
    list.sort((a, b) => collator.compare(a.name, b.name));
    sorted = { participants: state.participants, list };
    delegations(list);
  }
  return sorted.list;
}

function delegations(list) {
  const select = $("#filter-delegation");
  const chosen = select.value;
  const names = [...new Set(list.map((p) => p.delegation))].sort(collator.compare);
  select.replaceChildren(el("option", { text: t("filter.any"), attrs: { value: "" } }), ...names.map((d) => el("option", { text: d, attrs: { value: d } })));
  select.value = names.includes(chosen) ? chosen : "";
  filters.delegation = select.value;
}

function micState(state, p) {
  if (p.hard_muted) return "hard";
  if (isLive(state, p)) return "live";
  if (p.self_muted) return "self";
  return "unmuted";
}

/** Where a participant attends from: their seat, on site without one, or remote. */
export function placeOf(p) {
  return p.attendance === "onsite" ? (p.seat ? t("attendance.seat", { seat: p.seat }) : t("attendance.onsite")) : t("attendance.remote");
}

function filteredPeople(state) {
  const list = sortedPeople(state);
  const key = [state.participants, state.presence, state.floor?.participant, JSON.stringify(filters)];
  if (filtered.key && key.every((k, i) => k === filtered.key[i])) return filtered.list;
  const text = filters.text.trim().toLocaleLowerCase();
  const presence = state.presence || {};
  const result = list.filter((p) => {
    if (text && !`${p.name}\n${p.delegation}\n${p.seat || ""}`.toLocaleLowerCase().includes(text)) return false;
    if (filters.delegation && p.delegation !== filters.delegation) return false;
    if (filters.presence && (presence[p.id] ? "online" : "offline") !== filters.presence) return false;
    if (filters.attendance && p.attendance !== filters.attendance) return false;
    if (filters.mute) {
      const mic = micState(state, p);
      if (filters.mute === "unmuted" ? mic !== "unmuted" && mic !== "live" : mic !== filters.mute) return false;
    }
    return true;
  });
  filtered = { key, list: result };
  return result;
}

function personRow(p) {
  const li = el("li", { class: "person", attrs: { "data-id": p.id } });
  li.append(
    el("span", { class: "presence-dot", attrs: { role: "img" } }),
    el(
      "span",
      { class: "p-who" },
      el("span", { class: "p-name", attrs: { dir: "auto" } }),
      el("span", { class: "p-delegation", attrs: { dir: "auto" } }),
    ),
    el(
      "span",
      { class: "p-line" },
      el("span", { class: "p-mic badge" }),
      el("span", { class: "p-meta" }),
      el(
        "label",
        { class: "p-seat-edit", attrs: { hidden: true } },
        el("input", { class: "p-seat-input", attrs: { type: "text", maxlength: "32", autocomplete: "off", spellcheck: "false" } }),
      ),
    ),
    el(
      "span",
      { class: "p-actions" },
      el("button", { class: "button small", attrs: { type: "button", "data-action": "seat", "aria-expanded": "false" } }),
      el("button", { class: "button small", attrs: { type: "button", "data-action": "mute" } }),
      el("button", { class: "button small", attrs: { type: "button", "data-action": "inscribe" } }),
      el("button", { class: "button small", attrs: { type: "button", "data-action": "give" } }),
      el("button", { class: "button small icon", text: "✉", attrs: { type: "button", "data-action": "message" } }),
    ),
  );
  return { li, signature: null };
}

function fillPersonRow(state, row, p, index, total) {
  const online = Boolean(state.presence?.[p.id]);
  const mic = micState(state, p);
  const queued = state.queue.some((r) => r.participant === p.id);
  const speaking = state.floor?.participant === p.id;
  const signature = [p, online, mic, queued, speaking, index, total, fillPersonRow.lang].join("|");
  row.li.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
  if (row.signature === signature && row.p === p) return;
  row.signature = signature;
  row.p = p;
  const li = row.li;
  li.setAttribute("aria-posinset", index + 1);
  li.setAttribute("aria-setsize", total);
  li.dataset.presence = online ? "online" : "offline";
  li.dataset.mic = mic;
  li.classList.toggle("speaking", speaking);
  const [dot, whoNode, line, actions] = li.children;
  const [nameNode, delegationNode] = whoNode.children;
  const [micBadge, meta, seatEdit] = line.children;
  dot.title = online ? t("presence.online") : t("presence.offline");
  dot.setAttribute("aria-label", dot.title);
  setText(nameNode, p.name);
  const where = placeOf(p);
  const role = p.role === "delegate" ? null : t(`role.${p.role}`);
  setText(delegationNode, p.delegation);
  setText(meta, [role, where].filter(Boolean).join(" · "));
  setText(micBadge, t(`mic.state_${mic}`));
  micBadge.hidden = mic === "unmuted";
  const name = `${p.name} (${p.delegation})`;
  const [seat, mute, inscribe, give, message] = actions.children;
  setText(seat, t("people.seat"));
  seat.setAttribute("aria-label", t(p.seat ? "people.seat_change_label" : "people.seat_label", { name, seat: p.seat || "" }));
  seat.title = seat.getAttribute("aria-label");
  const seatInput = seatEdit.firstElementChild;
  seatInput.placeholder = t("people.seat_input");
  seatInput.setAttribute("aria-label", t("people.seat_input_label", { name }));
  seatInput.title = t("people.seat_input_hint");
  setText(mute, p.hard_muted ? t("people.unmute") : t("people.hard_mute"));
  mute.setAttribute("aria-label", t(p.hard_muted ? "people.unmute_label" : "people.hard_mute_label", { name }));
  mute.hidden = p.role === "chair";
  setText(inscribe, t("people.inscribe"));
  inscribe.setAttribute("aria-label", t("people.inscribe_label", { name }));
  inscribe.disabled = queued || speaking;
  setText(give, t("people.give_floor"));
  give.setAttribute("aria-label", t("people.give_floor_label", { name }));
  give.disabled = speaking;
  message.title = t("people.message_label", { name });
  message.setAttribute("aria-label", t("people.message_label", { name }));
  message.hidden = p.id === client.you?.participant;
}

export function drawPeople() {
  const state = client.state;
  if (!state) return;
  const list = filteredPeople(state);
  const total = sortedPeople(state).length;
  const online = Object.values(state.presence || {}).filter(Boolean).length;
  setText($("#people-count"), t("people.count", { shown: list.length, total, online }));
  const viewport = $("#people-viewport");
  $("#people-spacer").style.height = `${list.length * ROW_HEIGHT}px`;
  const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(list.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW_HEIGHT) + OVERSCAN);
  const visible = new Set();
  const ul = $("#people");
  for (let i = first; i < last; i++) {
    const p = list[i];
    visible.add(p.id);
    let row = rows.get(p.id);
    if (!row) {
      row = personRow(p);
      rows.set(p.id, row);
      ul.append(row.li);
    }
    fillPersonRow(state, row, p, i, list.length);
  }
  for (const [id, row] of rows) {
    if (!visible.has(id) && !row.li.contains(document.activeElement)) {
      row.li.remove();
      rows.delete(id);
    }
  }
}

onLanguage((lang) => {
  fillPersonRow.lang = lang;
  for (const row of rows.values()) row.signature = null;
  sorted = { participants: null, list: [] };
  filtered = { key: null, list: [] };
});

$("#people").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-action]");
  const id = button?.closest(".person")?.dataset.id;
  const p = id && client.state.participants[id];
  if (!p) return;
  switch (button.dataset.action) {
    case "mute":
      command("mute.set", { participant: p.id, muted: !p.hard_muted }, button);
      break;
    case "inscribe":
      command("floor.request", { participant: p.id, kind: "speak" }, button);
      break;
    case "give":
      command("floor.grant", { participant: p.id }, button);
      break;
    case "message":
      chat.replyTo(p.id);
      break;
    case "seat":
      if (button.getAttribute("aria-expanded") === "true") closeSeatEditor(button.closest(".person"), true);
      else openSeatEditor(button.closest(".person"), p);
      break;
  }
});

const schedulePeople = scheduler(drawPeople);
$("#people-viewport").addEventListener("scroll", schedulePeople, { passive: true });
new ResizeObserver(schedulePeople).observe($("#people-viewport"));
for (const [id, key] of [
  ["#people-search", "text"],
  ["#filter-delegation", "delegation"],
  ["#filter-presence", "presence"],
  ["#filter-attendance", "attendance"],
  ["#filter-mute", "mute"],
]) {
  $(id).addEventListener("input", (e) => {
    filters[key] = e.target.value;
    $("#people-viewport").scrollTop = 0;
    schedulePeople();
  });
}
client.on("presence", () => schedulePeople());

armed($("#mute-all"), "people.mute_all", "people.mute_all_confirm", (b) => command("mute.all", {}, b));
