// The chair's console (/chair): the floor and its clock, the list of speakers, the
// participants, chat with moderation, the meeting's settings and keyboard shortcuts ("?"
// lists them), each a module of this folder. This entry draws them from the live state:
// a burst of events costs one render (one per frame); the countdown and the waiting times
// are text updates on a timer.

import { onLanguage } from "../i18n.js";
import { scheduler } from "../ui.js";
import { chat } from "./chat.js";
import { client } from "./client.js";
import { drawFloor, tickFloor } from "./floor.js";
import { drawHeader } from "./meeting.js";
import { drawPeople } from "./people.js";
import { drawQueue, tickQueue } from "./queue.js";
import "./shortcuts.js";

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
client.on("state", () => render());
onLanguage(() => render());

let ticks = 0;
setInterval(() => {
  tickFloor();
  ticks += 1;
  if (ticks % 4 === 0) tickQueue();
}, 250);

client.start();
