// The chair's connection: the page's one protocol client, started here before any panel
// is built; `command`, which every panel sends its commands through (the button stays
// disabled while the command is in flight; a refusal is toasted and announced); and
// `onEvent`, for what a panel says aloud when an event comes.

import { reportError, run, startPage } from "../ui.js";

export const client = startPage();

export const command = (name, args = {}, button = null) => run(button, client.command(name, args), reportError);

/** Calls `listener(state, data)` each time an event `name` has been applied to the state. */
export function onEvent(name, listener) {
  client.on("state", (state, { event }) => {
    if (event?.name === name) listener(state, event.data);
  });
}
