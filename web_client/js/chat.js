// The chat panel of the chair and delegate pages: keyed by message id (a new message adds
// one item, a deletion removes one; nothing is rebuilt), text only, private replies, and
// for the chair, deletion.

import { clockTime, onLanguage, t } from "./i18n.js";
import { el, reportError, run } from "./ui.js";

export class ChatPanel {
  /**
   * @param {object} o
   * @param {import("./protocol.js").FloorClient} o.client
   * @param {HTMLOListElement} o.log
   * @param {HTMLFormElement} o.form
   * @param {HTMLSelectElement} o.to
   * @param {HTMLTextAreaElement} o.text
   * @param {boolean} [o.moderator] chair: may delete messages
   */
  constructor({ client, log, form, to, text, moderator = false }) {
    Object.assign(this, { client, log, form, to, text, moderator });
    this.items = new Map(); // message id -> li
    this.chat = null;
    this.participants = null;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.send();
    });
    text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    });
    onLanguage(() => {
      this.participants = null;
      this.items.clear();
      this.log.replaceChildren();
      this.chat = null;
      if (this.client.state) this.update(this.client.state);
    });
  }

  get me() {
    return this.client.you?.participant;
  }

  async send() {
    const text = this.text.value.trim();
    if (!text) return;
    const button = this.form.querySelector("button[type=submit]");
    const ack = await run(
      button,
      this.client.command("chat.send", { to: this.to.value, text }),
      reportError,
    );
    if (ack) this.text.value = "";
  }

  /** Starts a private message to `pid` (selects them and focuses the text). */
  replyTo(pid) {
    if (![...this.to.options].some((o) => o.value === pid)) return;
    this.to.value = pid;
    this.text.focus();
  }

  name(state, pid) {
    if (pid === this.me) return t("chat.you");
    const p = state.participants[pid];
    return p ? `${p.name} (${p.delegation})` : t("someone");
  }

  audience(state, message) {
    if (message.to === "all") return t("chat.to_all");
    if (message.to === "chair") return t("chat.to_chair");
    return t("chat.to_one", { name: this.name(state, message.to) });
  }

  item(state, message) {
    const mine = message.from === this.me;
    const privateMessage = message.to !== "all";
    const head = el(
      "p",
      { class: "chat-head" },
      el("span", { class: "chat-from", text: this.name(state, message.from), attrs: { dir: "auto" } }),
      " → ",
      el("span", { class: "chat-audience", text: this.audience(state, message) }),
      " ",
      el("time", {
        class: "chat-time",
        text: clockTime(message.at),
        attrs: { datetime: new Date(message.at).toISOString() },
      }),
    );
    const body = el("p", { class: "chat-text", text: message.text, attrs: { dir: "auto" } });
    const actions = el("div", { class: "chat-actions" });
    if (!mine && state.participants[message.from]) {
      actions.append(
        el("button", {
          class: "button small",
          text: t("chat.reply_private"),
          attrs: { type: "button", "aria-label": t("chat.reply_private_to", { name: this.name(state, message.from) }) },
          on: { click: () => this.replyTo(message.from) },
        }),
      );
    }
    if (this.moderator) {
      actions.append(
        el("button", {
          class: "button small danger",
          text: t("chat.delete"),
          attrs: { type: "button", "aria-label": t("chat.delete_from", { name: this.name(state, message.from) }) },
          on: {
            click: (e) =>
              run(e.currentTarget, this.client.command("chat.delete", { message: message.id }), reportError),
          },
        }),
      );
    }
    return el(
      "li",
      { class: `chat-message${privateMessage ? " private" : ""}${mine ? " mine" : ""}`, attrs: { "data-id": message.id } },
      head,
      body,
      actions,
    );
  }

  update(state) {
    if (state.participants !== this.participants) this.targets(state);
    if (state.chat === this.chat) return;
    this.chat = state.chat;
    const nearBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    const keep = new Set(state.chat.map((m) => m.id));
    for (const [id, li] of this.items) {
      if (!keep.has(id)) {
        li.remove();
        this.items.delete(id);
      }
    }
    let previous = null;
    for (const message of state.chat) {
      let li = this.items.get(message.id);
      if (!li) {
        li = this.item(state, message);
        this.items.set(message.id, li);
        if (previous) previous.after(li);
        else this.log.prepend(li);
      }
      previous = li;
    }
    if (nearBottom) this.log.scrollTop = this.log.scrollHeight;
  }

  /** The "to" choices: all, the chair, then every participant who can chat, by name. */
  targets(state) {
    this.participants = state.participants;
    const chosen = this.to.value || "all";
    const people = Object.values(state.participants)
      .filter((p) => p.id !== this.me && p.role !== "display")
      .sort((a, b) => a.name.localeCompare(b.name));
    const options = [
      el("option", { text: t("chat.to_all"), attrs: { value: "all" } }),
      el("option", { text: t("chat.to_chair"), attrs: { value: "chair" } }),
    ];
    const group = el("optgroup", { attrs: { label: t("chat.private_to") } });
    for (const p of people) {
      group.append(el("option", { text: `${p.name} (${p.delegation})`, attrs: { value: p.id } }));
    }
    this.to.replaceChildren(...options, group);
    this.to.value = [...this.to.options].some((o) => o.value === chosen) ? chosen : "all";
  }
}
