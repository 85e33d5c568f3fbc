// The room screen (/display) and, with `?overlay=1`, the webcast caption: who speaks
// (name, delegation), the countdown, the next speakers. Read only; large type.

import { onLanguage, t } from "./i18n.js";
import { remainingMs } from "./state.js";
import { $, duration, el, scheduler, setText, startPage, who } from "./ui.js";

const NEXT_SHOWN = 5;
const overlay = new URLSearchParams(location.search).get("overlay") === "1";
document.body.classList.toggle("overlay", overlay);
$("#screen").hidden = overlay;
$("#caption").hidden = !overlay;

const client = startPage();

function draw() {
  const state = client.state;
  if (!state) return;
  const title = state.meeting?.title || "Floor";
  setText($("#meeting-title"), title);
  document.title = `${title} — ${t("display.title")}`;
  const status = state.meeting?.status || "open";
  $("#meeting-status").hidden = status === "open";
  setText($("#meeting-status"), t(`meeting.${status}`));

  const floor = state.floor;
  const p = floor ? state.participants[floor.participant] : null;
  document.body.dataset.floor = floor ? "taken" : "free";
  setText($("#screen-name"), floor ? (p ? p.name : t("someone")) : t("now.nobody"));
  setText($("#screen-delegation"), p ? p.delegation : "");
  const kind = $("#screen-kind");
  kind.hidden = !floor || floor.kind === "speak";
  kind.className = `badge screen-kind kind-${floor?.kind || "speak"}`;
  setText(kind, floor ? t(`kind.${floor.kind}`) : "");
  setText($("#caption-name"), p ? p.name : "");
  setText($("#caption-delegation"), p ? p.delegation : "");
  $("#caption").classList.toggle("empty", !floor);

  const next = state.queue.slice(0, NEXT_SHOWN);
  $("#screen-next").replaceChildren(
    ...next.map((r) =>
      el(
        "li",
        { class: `screen-next-item kind-${r.kind}` },
        el("span", { text: who(state, r.participant) }),
        r.kind !== "speak" ? el("span", { class: `badge kind-${r.kind}`, text: t(`kind.${r.kind}`) }) : null,
      ),
    ),
  );
  if (next.length === 0) $("#screen-next").append(el("li", { class: "muted-text", text: t("next.empty") }));
  setText(
    $("#caption-next"),
    next.length ? `${t("next.title")}: ${next.slice(0, 3).map((r) => state.participants[r.participant]?.name || t("someone")).join(" · ")}` : "",
  );
  tick();
}

function tick() {
  const floor = client.state?.floor;
  const left = floor ? remainingMs(floor, client.now()) : null;
  const text = !floor ? "" : left == null ? t("floor.no_limit") : duration(left);
  for (const id of ["#screen-countdown", "#caption-countdown"]) {
    setText($(id), text);
    $(id).classList.toggle("over", left != null && left < 0);
    $(id).classList.toggle("paused", Boolean(floor && floor.running_since == null));
  }
}

const render = scheduler(draw);
client.on("state", render);
onLanguage(render);
setInterval(tick, 250);
client.start();
