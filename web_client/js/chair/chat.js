// The chair's chat card: the panel the delegate page has too (../chat.js), with the chair's
// right to delete messages, and a polite announcement of each message from someone else.

import { ChatPanel } from "../chat.js";
import { t } from "../i18n.js";
import { $, announce, who } from "../ui.js";
import { client, onEvent } from "./client.js";

export const chat = new ChatPanel({
  client,
  log: $("#chat-log"),
  form: $("#chat-form"),
  to: $("#chat-to"),
  text: $("#chat-text"),
  moderator: true,
});

onEvent("chat.posted", (state, d) => {
  if (d.from !== client.you.participant) announce(t("announce.chat", { name: who(state, d.from) }));
});
