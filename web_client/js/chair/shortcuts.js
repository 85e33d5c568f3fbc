// The chair's keyboard shortcuts (one key each, ignored while typing in a field or when a
// dialog is open) and the "?" dialog that lists them, in the interface language. The keys
// within the list of speakers are the list's own (queue.js); the dialog lists them too.

import { onLanguage, t } from "../i18n.js";
import { $, el } from "../ui.js";
import { client, command } from "./client.js";
import { togglePause } from "./floor.js";
import { toggleList } from "./queue.js";

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
onLanguage(helpList);
