// The list of speakers: one item per request, built once and then moved (keyed, not
// rebuilt), with its waiting time ticking as text; granting, reordering (buttons, Alt+arrows,
// drag and drop) and removing; the list's own buttons (next speaker, close or reopen,
// automatic floor, clear); and the announcement of each new request.

import { languageName, onLanguage, t } from "../i18n.js";
import { $, announce, el, elapsed, setText, who } from "../ui.js";
import { client, command, onEvent } from "./client.js";
import { armed } from "./confirm.js";
import { placeOf } from "./people.js";

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
  const place = p ? placeOf(p) : "";
  setText(item.meta, [place, languageName(request.lang), request.via === "seat" ? t("via.seat") : null].filter(Boolean).join(" · "));
  const label = p ? `${p.name} (${p.delegation})` : t("someone");
  for (const button of item.actions.children) {
    button.setAttribute("aria-label", t(`queue.${button.dataset.action}_label`, { name: label }));
    if (button.dataset.action !== "grant") button.title = button.getAttribute("aria-label");
  }
}

export function drawQueue(state) {
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

export function tickQueue() {
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

export function toggleList(button = null) {
  command(client.state?.list_open ? "list.close" : "list.open", {}, button);
}

$("#grant-next").addEventListener("click", (e) => command("floor.grant", {}, e.currentTarget));
$("#toggle-list").addEventListener("click", (e) => toggleList(e.currentTarget));
$("#auto-mode").addEventListener("change", (e) => command("settings.update", { floor_mode: e.target.checked ? "auto" : "manual" }));
armed($("#clear-queue"), "queue.clear", "queue.clear_confirm", (b) => command("queue.clear", {}, b));

onLanguage(() => {
  queueItems.clear();
  $("#queue").replaceChildren();
  lastQueue = null;
});

onEvent("floor.requested", (state, d) => {
  if (d.kind === "point_of_order") announce(t("announce.point_of_order", { name: who(state, d.participant) }), { assertive: true });
  else announce(t("announce.requested", { name: who(state, d.participant), n: d.position + 1 }));
});
