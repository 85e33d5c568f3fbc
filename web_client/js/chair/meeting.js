// The meeting as the chair runs it: the top bar (the title, who chairs, the meeting's status,
// the default speaking time) and the settings switches. A switch whose change is in flight
// is left alone by drawing; once settled, the live state decides what it shows.

import { t } from "../i18n.js";
import { $, scheduler, setText } from "../ui.js";
import { client, command } from "./client.js";

export function drawHeader(state) {
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

const redraw = scheduler(() => client.state && client.you && drawHeader(client.state));

for (const box of document.querySelectorAll("#meeting-settings input[data-setting]")) {
  box.addEventListener("change", async (e) => {
    const input = e.currentTarget;
    input.dataset.pending = "1";
    await command("settings.update", { [input.dataset.setting]: input.checked });
    delete input.dataset.pending;
    redraw(); // the live state decides: a refused change springs back
  });
}
$("#meeting-status-select").addEventListener("change", (e) => command("meeting.set_status", { status: e.target.value }));
$("#default-limit").addEventListener("change", (e) => {
  const value = Number.parseInt(e.target.value, 10);
  if (Number.isFinite(value) && value >= 0) command("settings.update", { default_limit_s: value });
});
