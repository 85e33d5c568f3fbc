// The floor card: who speaks now (name, delegation, kind, language, microphone), the
// countdown, the clock's buttons (pause or resume, extend, end), the interrupted speakers
// waiting to resume, and the announcement when a speaker's time is up.

import { languageName, t } from "../i18n.js";
import { isLive, remainingMs } from "../state.js";
import { $, announce, duration, el, setText, who } from "../ui.js";
import { client, command, onEvent } from "./client.js";

export function drawFloor(state) {
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

export function tickFloor() {
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

export function togglePause(button = null) {
  const floor = client.state?.floor;
  if (!floor) return;
  command(floor.running_since == null ? "floor.unpause" : "floor.pause", {}, button);
}

$("#pause").addEventListener("click", (e) => togglePause(e.currentTarget));
$("#extend-30").addEventListener("click", (e) => command("floor.extend", { seconds: 30 }, e.currentTarget));
$("#extend-60").addEventListener("click", (e) => command("floor.extend", { seconds: 60 }, e.currentTarget));
$("#end").addEventListener("click", (e) => command("floor.release", {}, e.currentTarget));

onEvent("floor.time_expired", (state, d) => {
  announce(t("announce.time_up", { name: who(state, d.participant) }), { assertive: true });
});
