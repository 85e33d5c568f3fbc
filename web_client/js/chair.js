// The chair's console (/chair): the list of speakers, the floor and its clock, the
// interrupted speakers, the participants (virtualised: only the rows in view exist), chat
// with moderation, and keyboard shortcuts for the frequent actions ("?" lists them).
//
// Rendering is keyed and incremental: a queue item is built once per request and moved,
// a participant row once per participant in view; the waiting times and the countdown
// are text updates on a timer. A burst of events costs one render (one per frame).

import { ChatPanel } from "./chat.js";
import { languageName, onLanguage, t } from "./i18n.js";
import { isLive, remainingMs } from "./state.js";
import { $, announce, duration, el, elapsed, reportError, run, scheduler, setText, startPage, who } from "./ui.js";

const ROW_HEIGHT = 60; // px, one participant row (keep in step with .person in floor.css)
const OVERSCAN = 8;

const client = startPage();
const chat = new ChatPanel({
  client,
  log: $("#chat-log"),
  form: $("#chat-form"),
  to: $("#chat-to"),
  text: $("#chat-text"),
  moderator: true,
});

const command = (name, args = {}, button = null) => run(button, client.command(name, args), reportError);

// --- the floor -----------------------------------------------------------------------------

function drawFloor(state) {
  const floor = state.floor;
  const card = $("#speaker-card");
  card.dataset.state = !floor ? "empty" : floor.running_since == null ? "paused" : "running";
  card.dataset.kind = floor?.kind || "";
  if (!floor) {
    setText($("#speaker-name"), t("now.nobody"));
    setText($("#speaker-meta"), "");
    setText($("#speaker-note"), "");
  } else {
    const p = state.participants[floor.participant];
    setText($("#speaker-name"), p ? p.name : t("someone"));
    const parts = [p?.delegation, t(`kind.${floor.kind}`), languageName(floor.lang)];
    if (p) parts.push(p.attendance === "onsite" ? t("attendance.onsite") : t("attendance.remote"));
    setText($("#speaker-meta"), parts.filter(Boolean).join(" · "));
    const notes = [];
    if (floor.running_since == null) notes.push(t("floor.paused_note"));
    if (floor.expired) notes.push(t("floor.time_up"));
    if (p && !isLive(state, p)) notes.push(p.hard_muted ? t("mic.hard_muted_other") : t("mic.self_muted_other"));
    setText($("#speaker-note"), notes.join(" "));
  }
  for (const id of ["pause", "extend-30", "extend-60", "end"]) $(`#${id}`).disabled = !floor;
  $("#extend-30").disabled = $("#extend-60").disabled = !floor || floor.limit_s === 0;
  setText($("#pause"), floor && floor.running_since == null ? t("floor.resume_clock") : t("floor.pause"));

  const box = $("#interrupted-box");
  box.hidden = state.interrupted.length === 0;
  $("#interrupted-list").replaceChildren(
    ...[...state.interrupted].reverse().map((f) => {
      const left = remainingMs(f, 0);
      const time = left == null ? t("floor.no_limit") : duration(left);
      return el("li", { text: `${who(state, f.participant)} — ${t("interrupted.left", { time })}` });
    }),
  );
  tickFloor();
}

function tickFloor() {
  const floor = client.state?.floor;
  const node = $("#speaker-countdown");
  if (!floor) {
    setText(node, "");
    node.classList.remove("over", "low");
    return;
  }
  const left = remainingMs(floor, client.now());
  setText(node, left == null ? t("floor.no_limit") : duration(left));
  node.classList.toggle("over", left != null && left < 0);
  node.classList.toggle("low", left != null && left >= 0 && left < 30_000);
}

// --- the list of speakers --------------------------------------------------------------------

const queueItems = new Map(); // request id -> {li, request, participant}
let lastQueue = null;

function queueItem(state, request, index) {
  const p = state.participants[request.participant];
  const li = el("li", {
    class: `queue-item kind-${request.kind}`,
    attrs: { tabindex: "-1", draggable: "true", "data-id": request.id, "data-participant": request.participant },
  });
  const position = el("span", { class: "position", attrs: { "aria-hidden": "true" } });
  const name = el("span", { class: "q-name", attrs: { dir: "auto" } });
  const delegation = el("span", { class: "q-delegation" });
  const meta = el("span", { class: "q-meta" });
  const wait = el("span", { class: "q-wait", attrs: { "data-at": request.at } });
  const kind = request.kind !== "speak" ? el("span", { class: `badge kind-${request.kind}`, text: t(`kind.${request.kind}`) }) : null;
  const actions = el(
    "span",
    { class: "q-actions" },
    el("button", { class: "button small primary", text: t("queue.grant"), attrs: { type: "button", "data-action": "grant" } }),
    el("button", { class: "button small icon", text: "↑", attrs: { type: "button", "data-action": "up" } }),
    el("button", { class: "button small icon", text: "↓", attrs: { type: "button", "data-action": "down" } }),
    el("button", { class: "button small icon danger", text: "✕", attrs: { type: "button", "data-action": "remove" } }),
  );
  li.append(
    el("span", { class: "drag-handle", text: "⋮⋮", attrs: { "aria-hidden": "true" } }),
    position,
    el("span", { class: "q-main" }, name, wait),
    el("span", { class: "q-meta-line" }, kind, delegation, meta),
    actions,
  );
  const item = { li, request, participant: null, position, name, delegation, meta, wait, actions, index };
  fillQueueItem(state, item);
  return item;
}

function fillQueueItem(state, item) {
  const p = state.participants[item.request.participant];
  if (p === item.participant) return;
  item.participant = p;
  const request = item.request;
  setText(item.name, p ? p.name : t("someone"));
  setText(item.delegation, p ? p.delegation : "");
  const place = p ? (p.attendance === "onsite" ? (p.seat ? t("attendance.seat", { seat: p.seat }) : t("attendance.onsite")) : t("attendance.remote")) : "";
  setText(item.meta, [place, languageName(request.lang), request.via === "seat" ? t("via.seat") : null].filter(Boolean).join(" · "));
  const label = p ? `${p.name} (${p.delegation})` : t("someone");
  for (const button of item.actions.children) {
    button.setAttribute("aria-label", t(`queue.${button.dataset.action}_label`, { name: label }));
    if (button.dataset.action !== "grant") button.title = button.getAttribute("aria-label");
  }
}

function drawQueue(state) {
  const list = $("#queue");
  setText($("#queue-count"), `(${state.queue.length})`);
  $("#queue-empty").hidden = state.queue.length > 0;
  setText($("#list-state"), state.list_open ? t("queue.open") : t("queue.closed"));
  $("#list-state").dataset.state = state.list_open ? "open" : "closed";
  setText($("#toggle-list"), state.list_open ? t("queue.close_list") : t("queue.reopen_list"));
  $("#grant-next").disabled = state.queue.length === 0;
  $("#clear-queue").disabled = state.queue.length === 0;
  $("#auto-mode").checked = state.meeting?.settings?.floor_mode === "auto";

  const participantsChanged = state.participants !== drawQueue.participants;
  drawQueue.participants = state.participants;
  if (state.queue === lastQueue && !participantsChanged) return;
  lastQueue = state.queue;
  const focused = document.activeElement?.closest?.(".queue-item")?.dataset.id;
  const keep = new Set(state.queue.map((r) => r.id));
  for (const [id, item] of queueItems) {
    if (!keep.has(id)) {
      item.li.remove();
      queueItems.delete(id);
    }
  }
  let cursor = list.firstElementChild;
  state.queue.forEach((request, index) => {
    let item = queueItems.get(request.id);
    if (!item) {
      item = queueItem(state, request, index);
      queueItems.set(request.id, item);
    } else if (participantsChanged) {
      fillQueueItem(state, item);
    }
    item.index = index;
    setText(item.position, index + 1);
    item.li.setAttribute("aria-label", queueLabel(state, request, index));
    if (item.li !== cursor) list.insertBefore(item.li, cursor);
    else cursor = cursor.nextElementSibling;
  });
  // keep the roving focus where it was: the same request, or its neighbour
  const tabbable = queueItems.get(focused) || queueItems.get(state.queue[0]?.id);
  for (const item of queueItems.values()) item.li.tabIndex = item === tabbable ? 0 : -1;
  if (focused && !queueItems.has(focused) && document.activeElement === document.body) {
    tabbable?.li.focus();
  }
  tickQueue();
}

function queueLabel(state, request, index) {
  return t("queue.item_label", {
    n: index + 1,
    name: who(state, request.participant),
    kind: t(`kind.${request.kind}`),
  });
}

function tickQueue() {
  const now = client.now();
  for (const item of queueItems.values()) setText(item.wait, elapsed(now - item.request.at));
}

function requestAt(node) {
  const li = node.closest(".queue-item");
  return li ? queueItems.get(li.dataset.id) : null;
}

function move(item, position) {
  const last = client.state.queue.length - 1;
  const target = Math.max(0, Math.min(last, position));
  if (target === item.index) return;
  command("floor.move", { request: item.request.id, position: target }).then((ack) => {
    if (ack) queueItems.get(item.request.id)?.li.focus();
  });
}

function act(item, action, button) {
  if (action === "grant") command("floor.grant", { request: item.request.id }, button);
  else if (action === "remove") command("floor.withdraw", { request: item.request.id }, button);
  else if (action === "up") move(item, item.index - 1);
  else if (action === "down") move(item, item.index + 1);
}

$("#queue").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-action]");
  const item = button && requestAt(button);
  if (item) act(item, button.dataset.action, button);
});

$("#queue").addEventListener("keydown", (e) => {
  if (e.target.closest("button")) return;
  const item = requestAt(e.target);
  if (!item) return;
  const items = [...$("#queue").children];
  const i = items.indexOf(item.li);
  const focusAt = (j) => items[Math.max(0, Math.min(items.length - 1, j))]?.focus();
  const moving = e.altKey || e.ctrlKey;
  switch (e.key) {
    case "ArrowUp":
      if (moving) move(item, item.index - 1);
      else focusAt(i - 1);
      break;
    case "ArrowDown":
      if (moving) move(item, item.index + 1);
      else focusAt(i + 1);
      break;
    case "Home":
      if (moving) move(item, 0);
      else focusAt(0);
      break;
    case "End":
      if (moving) move(item, items.length - 1);
      else focusAt(items.length - 1);
      break;
    case "Enter":
    case "g":
      act(item, "grant");
      break;
    case "Delete":
    case "Backspace":
      focusAt(i + 1 < items.length ? i + 1 : i - 1);
      act(item, "remove");
      break;
    default:
      return;
  }
  e.preventDefault();
  e.stopPropagation();
});

$("#queue").addEventListener("focusin", (e) => {
  const li = e.target.closest(".queue-item");
  if (!li) return;
  for (const item of queueItems.values()) item.li.tabIndex = item.li === li ? 0 : -1;
});

// drag and drop: drop before or after the row under the pointer
let dragged = null;
$("#queue").addEventListener("dragstart", (e) => {
  const item = requestAt(e.target);
  if (!item) return;
  dragged = item;
  e.dataTransfer.effectAllowed = "move";
  e.dataTransfer.setData("text/plain", item.request.id);
  item.li.classList.add("dragging");
});
$("#queue").addEventListener("dragend", () => {
  dragged?.li.classList.remove("dragging");
  dragged = null;
  for (const li of $("#queue").querySelectorAll(".drop-before, .drop-after")) li.classList.remove("drop-before", "drop-after");
});
$("#queue").addEventListener("dragover", (e) => {
  const target = requestAt(e.target);
  if (!dragged || !target) return;
  e.preventDefault();
  const box = target.li.getBoundingClientRect();
  const after = e.clientY > box.top + box.height / 2;
  for (const li of $("#queue").querySelectorAll(".drop-before, .drop-after")) li.classList.remove("drop-before", "drop-after");
  target.li.classList.add(after ? "drop-after" : "drop-before");
});
$("#queue").addEventListener("drop", (e) => {
  const target = requestAt(e.target);
  if (!dragged || !target) return;
  e.preventDefault();
  const after = target.li.classList.contains("drop-after");
  const rest = client.state.queue.filter((r) => r.id !== dragged.request.id);
  const k = rest.findIndex((r) => r.id === target.request.id);
  if (k >= 0 && target !== dragged) move(dragged, after ? k + 1 : k);
});

// --- participants (virtualised) ------------------------------------------------------------

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
  const where = p.attendance === "onsite" ? (p.seat ? t("attendance.seat", { seat: p.seat }) : t("attendance.onsite")) : t("attendance.remote");
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

function drawPeople() {
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

// --- seats: a small inline editor per participant row --------------------------------------
// "Seat" opens a text field in the row; Enter assigns the seat typed (an empty field clears
// the participant's current seat), Escape or leaving the field cancels.

function openSeatEditor(li, p) {
  const editor = li.querySelector(".p-seat-edit");
  const input = editor.querySelector("input");
  const button = li.querySelector("button[data-action=seat]");
  editor.hidden = false;
  li.classList.add("editing-seat");
  button.setAttribute("aria-expanded", "true");
  input.value = p.seat || "";
  input.focus();
  input.select();
}

function closeSeatEditor(li, focusButton = false) {
  const editor = li.querySelector(".p-seat-edit");
  if (editor.hidden) return;
  const button = li.querySelector("button[data-action=seat]");
  editor.hidden = true;
  li.classList.remove("editing-seat");
  button.setAttribute("aria-expanded", "false");
  if (focusButton) button.focus();
}

async function submitSeat(li) {
  const p = client.state.participants[li.dataset.id];
  const input = li.querySelector(".p-seat-input");
  const value = input.value.trim();
  closeSeatEditor(li, true); // focus back on the Seat button (not disabled: it would lose focus)
  if (!p || value === (p.seat || "")) return;
  if (value) await command("seat.assign", { seat: value, participant: p.id });
  else await command("seat.assign", { seat: p.seat, participant: null });
}

$("#people").addEventListener("keydown", (e) => {
  if (!e.target.matches(".p-seat-input")) return;
  const li = e.target.closest(".person");
  if (e.key === "Enter") {
    e.preventDefault();
    submitSeat(li);
  } else if (e.key === "Escape") {
    e.preventDefault();
    closeSeatEditor(li, true);
  }
});
$("#people").addEventListener("focusout", (e) => {
  if (!e.target.matches(".p-seat-input")) return;
  const li = e.target.closest(".person");
  // leaving the field (not for its own Seat button, which toggles) cancels
  if (e.relatedTarget !== li.querySelector("button[data-action=seat]")) closeSeatEditor(li);
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

// a two-step confirmation for the heavy buttons: the first press arms, the second acts
function armed(button, labelKey, confirmKey, action) {
  let timer = 0;
  button.addEventListener("click", () => {
    if (button.dataset.armed) {
      delete button.dataset.armed;
      clearTimeout(timer);
      setText(button, t(labelKey));
      action(button);
      return;
    }
    button.dataset.armed = "1";
    setText(button, t(confirmKey));
    announce(t(confirmKey));
    timer = setTimeout(() => {
      delete button.dataset.armed;
      setText(button, t(labelKey));
    }, 4000);
  });
}

armed($("#mute-all"), "people.mute_all", "people.mute_all_confirm", (b) => command("mute.all", {}, b));
armed($("#clear-queue"), "queue.clear", "queue.clear_confirm", (b) => command("queue.clear", {}, b));

// --- header, settings, the rest --------------------------------------------------------------

function drawHeader(state) {
  setText($("#meeting-title"), state.meeting?.title || "Floor");
  document.title = `${state.meeting?.title || "Floor"} — ${t("chair.title")}`;
  const p = state.participants[client.you.participant];
  setText($("#me"), p ? `${p.name} · ${t("role.chair")}` : "");
  const select = $("#meeting-status-select");
  if (document.activeElement !== select) select.value = state.meeting?.status || "open";
  document.body.dataset.meeting = state.meeting?.status || "open";
  const settings = state.meeting?.settings || {};
  for (const box of document.querySelectorAll("#meeting-settings input[data-setting]")) {
    if (!box.dataset.pending) box.checked = settings[box.dataset.setting] === true;
  }
  const limit = $("#default-limit");
  if (document.activeElement !== limit) limit.value = state.meeting?.settings?.default_limit_s ?? 180;
}

function draw() {
  const state = client.state;
  if (!state || !client.you) return;
  drawHeader(state);
  drawFloor(state);
  drawQueue(state);
  drawPeople();
  chat.update(state);
}

const render = scheduler(draw);
client.on("state", (state, { event }) => {
  render();
  if (!event) return;
  if (event.name === "floor.requested") {
    const d = event.data;
    if (d.kind === "point_of_order") announce(t("announce.point_of_order", { name: who(state, d.participant) }), { assertive: true });
    else announce(t("announce.requested", { name: who(state, d.participant), n: d.position + 1 }));
  } else if (event.name === "floor.time_expired") {
    announce(t("announce.time_up", { name: who(state, event.data.participant) }), { assertive: true });
  } else if (event.name === "chat.posted" && event.data.from !== client.you.participant) {
    announce(t("announce.chat", { name: who(state, event.data.from) }));
  }
});
client.on("presence", () => schedulePeople());
onLanguage(() => {
  queueItems.clear();
  $("#queue").replaceChildren();
  lastQueue = null;
  for (const row of rows.values()) row.signature = null;
  sorted = { participants: null, list: [] };
  filtered = { key: null, list: [] };
  helpList();
  render();
});
setInterval(() => {
  tickFloor();
  tickQueue.count = (tickQueue.count || 0) + 1;
  if (tickQueue.count % 4 === 0) tickQueue();
}, 250);

$("#pause").addEventListener("click", (e) => togglePause(e.currentTarget));
$("#extend-30").addEventListener("click", (e) => command("floor.extend", { seconds: 30 }, e.currentTarget));
$("#extend-60").addEventListener("click", (e) => command("floor.extend", { seconds: 60 }, e.currentTarget));
$("#end").addEventListener("click", (e) => command("floor.release", {}, e.currentTarget));
$("#grant-next").addEventListener("click", (e) => command("floor.grant", {}, e.currentTarget));
$("#toggle-list").addEventListener("click", (e) => toggleList(e.currentTarget));
$("#auto-mode").addEventListener("change", (e) => command("settings.update", { floor_mode: e.target.checked ? "auto" : "manual" }));
for (const box of document.querySelectorAll("#meeting-settings input[data-setting]")) {
  box.addEventListener("change", async (e) => {
    const input = e.currentTarget;
    input.dataset.pending = "1";
    await command("settings.update", { [input.dataset.setting]: input.checked });
    delete input.dataset.pending;
    render(); // the live state decides: a refused change springs back
  });
}
$("#meeting-status-select").addEventListener("change", (e) => command("meeting.set_status", { status: e.target.value }));
$("#default-limit").addEventListener("change", (e) => {
  const value = Number.parseInt(e.target.value, 10);
  if (Number.isFinite(value) && value >= 0) command("settings.update", { default_limit_s: value });
});

function togglePause(button = null) {
  const floor = client.state?.floor;
  if (!floor) return;
  command(floor.running_since == null ? "floor.unpause" : "floor.pause", {}, button);
}

function toggleList(button = null) {
  command(client.state?.list_open ? "list.close" : "list.open", {}, button);
}

// --- keyboard shortcuts ----------------------------------------------------------------------

const SHORTCUTS = [
  ["N", "help.grant_next", () => client.state?.queue.length && command("floor.grant", {})],
  ["E", "help.end", () => client.state?.floor && command("floor.release", {})],
  ["P", "help.pause", () => togglePause()],
  ["+", "help.extend", () => client.state?.floor && command("floor.extend", { seconds: 60 })],
  ["L", "help.list", () => toggleList()],
  ["Q", "help.queue", () => ($("#queue .queue-item[tabindex='0']") || $("#queue-help")).focus()],
  ["/", "help.search", () => $("#people-search").focus()],
  ["C", "help.chat", () => $("#chat-text").focus()],
  ["?", "help.help", () => openHelp()],
];
const KEYS = {
  n: "N",
  e: "E",
  p: "P",
  "+": "+",
  "=": "+",
  l: "L",
  q: "Q",
  "/": "/",
  c: "C",
  "?": "?",
};

function helpList() {
  const rowsOf = [
    ...SHORTCUTS.map(([key, label]) => [key, t(label)]),
    ["↑ ↓", t("help.queue_focus")],
    ["Alt + ↑ ↓", t("help.queue_move")],
    ["Enter", t("help.queue_grant")],
    ["Delete", t("help.queue_remove")],
    ["Esc", t("help.close")],
  ];
  $("#help-list").replaceChildren(
    ...rowsOf.flatMap(([key, label]) => [el("dt", {}, el("kbd", { text: key })), el("dd", { text: label })]),
  );
}

function openHelp() {
  const dialog = $("#help");
  if (!dialog.open) dialog.showModal();
}

$("#help-open").addEventListener("click", openHelp);

document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const target = e.target;
  if (target.closest?.("input, textarea, select, [contenteditable], dialog")) {
    if (e.key === "Escape" && target.matches("input, textarea")) target.blur();
    return;
  }
  const key = KEYS[e.key.length === 1 ? e.key.toLowerCase() : e.key] || KEYS[e.key];
  const shortcut = key && SHORTCUTS.find(([k]) => k === key);
  if (!shortcut) return;
  e.preventDefault();
  shortcut[2]();
});

helpList();
client.start();
