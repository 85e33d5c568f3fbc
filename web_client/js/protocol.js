// The one protocol client shared by every page (PROTOCOL.md, floor.v1.json).
//
// - hello with the token from the URL fragment (`#token=…`), then the welcome snapshot;
// - events applied in seq order through state.js (every message of a frame: one JSON
//   document per line); an event at or below the current seq is a duplicate and skipped;
// - reconnect with exponential backoff and full jitter, sending `resume {epoch, seq}`;
// - commands with unique ids; unanswered ones are re-sent with the same id after a
//   reconnect (the server acknowledges an id once and dedupes retries); paced under the
//   server's rate limit, and a `rate_limited` one is retried after a pause;
// - the server clock's offset from ping/pong `now` (the sample with the shortest round trip);
// - a connection state for the pages: connecting · connected · reconnecting · stopped,
//   with the time it began and, when stopped, why (close codes of section 7).

import { applyEvent, applyPresence } from "./state.js";

const CLIENT = "floor-web/1";
const PING_EVERY_MS = 15_000;
const PONG_TIMEOUT_MS = 10_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15_000;
// Commands are paced below the server's per-connection limit (20/s, bursts of 40): a
// command refused with rate_limited counts against the connection, so never provoke one.
const COMMANDS_PER_S = 15;
const COMMAND_BURST = 30;
const RATE_LIMITED_RETRIES = 5;

/** Close codes after which reconnecting cannot help (section 7). */
const FATAL = {
  4001: "bad_token",
  4003: "removed",
  4000: "protocol",
  1008: "policy",
  1009: "too_large",
};

/** The join token from the URL fragment `#token=…` (null if none). */
export function tokenFromHash(hash = location.hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  return params.get("token");
}

function randomId() {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A command rejected by the server: `code` from PROTOCOL.md section 7, and `field`. */
export class CommandError extends Error {
  constructor(message) {
    super(message.message || message.code);
    this.code = message.code;
    this.field = message.field;
  }
}

export class FloorClient {
  /**
   * @param {object} options
   * @param {string} options.token       the join token
   * @param {string} [options.url]       the websocket URL (default: this page's /ws)
   * @param {typeof WebSocket} [options.WebSocket]
   */
  constructor({ token, url, WebSocket: WS = globalThis.WebSocket } = {}) {
    this.token = token;
    this.url = url || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    this.WS = WS;
    this.state = null;
    this.you = null;
    this.meeting = null;
    this.epoch = null;
    this.seq = 0;
    this.offsetMs = 0;
    this.bestRtt = Infinity;
    this.connection = { status: "connecting", since: Date.now(), reason: null };
    this.listeners = new Map();
    this.pending = new Map(); // id -> {message, resolve, reject, sent, retries}
    this.tokens = COMMAND_BURST;
    this.refilledAt = 0;
    this.pings = new Map(); // id -> sent at (local ms)
    this.prefix = randomId();
    this.counter = 0;
    this.attempt = 0;
    this.ws = null;
    this.timers = { retry: null, ping: null, pong: null, pump: null };
    this.stopped = false;
  }

  // --- listening ---------------------------------------------------------------------------

  /**
   * Events for the pages: `state` (state, {event, previous, reset}), `connection`,
   * `event` (message), `presence`, `welcome`.
   */
  on(kind, listener) {
    if (!this.listeners.has(kind)) this.listeners.set(kind, new Set());
    this.listeners.get(kind).add(listener);
    return () => this.listeners.get(kind).delete(listener);
  }

  emit(kind, ...args) {
    for (const listener of this.listeners.get(kind) || []) {
      try {
        listener(...args);
      } catch (error) {
        console.error(error);
      }
    }
  }

  /** Server time now (epoch ms), from the browser's clock and the measured offset. */
  now() {
    return Date.now() + this.offsetMs;
  }

  // --- connecting ---------------------------------------------------------------------------

  start() {
    if (!this.token) {
      this.setConnection("stopped", "no_token");
      return this;
    }
    this.open();
    return this;
  }

  stop() {
    this.stopped = true;
    this.clearTimers();
    if (this.ws) this.ws.close(1000);
  }

  setConnection(status, reason = null) {
    if (this.connection.status === status && this.connection.reason === reason) return;
    const keepSince = status === "reconnecting" && this.connection.status === "reconnecting";
    this.connection = { status, since: keepSince ? this.connection.since : Date.now(), reason };
    this.emit("connection", this.connection);
  }

  open() {
    let ws;
    try {
      ws = new this.WS(this.url, ["floor.v1.json"]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const hello = { t: "hello", v: 1, token: this.token, client: CLIENT };
      if (this.epoch != null && this.state != null) {
        hello.resume = { epoch: this.epoch, seq: this.seq };
      }
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (frame) => {
      if (ws !== this.ws) return;
      this.resetPongTimer();
      for (const line of String(frame.data).split("\n")) {
        if (!line) continue;
        let message;
        try {
          message = JSON.parse(line);
        } catch {
          continue;
        }
        this.receive(message);
      }
    };
    ws.onclose = (close) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.clearTimers();
      this.closed(close.code, close.reason);
    };
    ws.onerror = () => {}; // a close follows
  }

  closed(code) {
    if (this.stopped) return;
    const fatal = FATAL[code];
    if (fatal) {
      this.stopped = true;
      for (const { reject } of this.pending.values()) reject(new CommandError({ code: fatal }));
      this.pending.clear();
      this.setConnection("stopped", fatal);
      return;
    }
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    this.setConnection("reconnecting");
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // jitter
    this.attempt += 1;
    clearTimeout(this.timers.retry);
    this.timers.retry = setTimeout(() => this.open(), delay);
  }

  /** Reconnect now (the page's "retry" button), forgetting the backoff. */
  reconnectNow() {
    if (this.ws) return;
    this.stopped = false;
    this.attempt = 0;
    clearTimeout(this.timers.retry);
    this.setConnection("reconnecting");
    this.open();
  }

  clearTimers() {
    clearTimeout(this.timers.retry);
    clearTimeout(this.timers.pump);
    clearInterval(this.timers.ping);
    clearTimeout(this.timers.pong);
  }

  // --- receiving -----------------------------------------------------------------------------

  receive(message) {
    switch (message.t) {
      case "welcome":
        return this.welcome(message);
      case "event":
        return this.event(message);
      case "ack":
        return this.answer(message, true);
      case "error":
        if (message.id != null && this.pending.has(message.id)) return this.answer(message, false);
        return this.emit("error", message);
      case "pong":
        return this.pong(message);
      case "presence":
        if (!this.state) return undefined;
        this.state = applyPresence(this.state, message);
        return this.emit("presence", this.state, message);
      default:
        return undefined; // seats and later additions: not for the web client
    }
  }

  welcome(message) {
    this.attempt = 0;
    this.you = message.you;
    this.meeting = message.meeting;
    this.epoch = message.epoch;
    this.seq = message.seq;
    if (this.bestRtt === Infinity) this.offsetMs = message.now - Date.now();
    const reset = !message.resumed;
    if (reset) {
      const previous = this.state;
      this.state = message.state;
      this.emit("state", this.state, { event: null, previous, reset: true });
    }
    this.setConnection("connected");
    this.emit("welcome", message);
    // unanswered commands: the same ids again (the server dedupes acknowledged ones)
    for (const entry of this.pending.values()) entry.sent = false;
    this.pump();
    this.ping();
    this.timers.ping = setInterval(() => this.ping(), PING_EVERY_MS);
  }

  event(message) {
    if (!this.state || message.seq <= this.seq) return; // duplicate: already applied
    const previous = this.state;
    this.state = applyEvent(previous, message);
    this.seq = message.seq;
    this.emit("event", message);
    this.emit("state", this.state, { event: message, previous, reset: false });
  }

  answer(message, ok) {
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (!ok && message.code === "rate_limited" && pending.retries < RATE_LIMITED_RETRIES) {
      pending.retries += 1;
      pending.sent = false;
      this.tokens = 0;
      clearTimeout(this.timers.pump);
      this.timers.pump = setTimeout(() => this.pump(), 400 * pending.retries);
      return;
    }
    this.pending.delete(message.id);
    if (ok) pending.resolve(message);
    else pending.reject(new CommandError(message));
  }

  ping() {
    if (!this.ws || this.ws.readyState !== 1) return;
    const id = `ping-${++this.counter}`;
    this.pings.set(id, Date.now());
    this.send({ t: "ping", id });
    this.resetPongTimer();
  }

  /** A connection that stays silent too long after a ping is dead: close and resume. */
  resetPongTimer() {
    clearTimeout(this.timers.pong);
    if (this.pings.size === 0) return;
    const ws = this.ws;
    this.timers.pong = setTimeout(() => {
      if (ws && ws === this.ws) ws.close(4100, "pong timeout");
    }, PONG_TIMEOUT_MS);
  }

  pong(message) {
    const sent = this.pings.get(message.id);
    this.pings.delete(message.id);
    if (this.pings.size === 0) clearTimeout(this.timers.pong);
    if (sent == null || typeof message.now !== "number") return;
    const received = Date.now();
    const rtt = received - sent;
    // the sample with the shortest round trip is the most accurate; let old ones age out
    this.bestRtt = Math.min(this.bestRtt * 1.05 + 1, Infinity);
    if (rtt <= this.bestRtt) {
      this.bestRtt = rtt;
      this.offsetMs = message.now - (sent + rtt / 2);
      this.emit("clock", this.offsetMs);
    }
  }

  // --- sending -------------------------------------------------------------------------------

  send(message) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(message));
  }

  /**
   * Sends a command; resolves with its `ack` or rejects with a CommandError. While the
   * connection is down it waits, and is re-sent with the same id after the reconnect.
   */
  command(name, args = {}) {
    if (this.stopped) return Promise.reject(new CommandError({ code: "stopped" }));
    const id = `w-${this.prefix}-${++this.counter}`;
    const message = { t: "cmd", id, name, args };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { message, resolve, reject, sent: false, retries: 0 });
      this.pump();
    });
  }

  /** Sends the commands not sent yet, as fast as the rate limit allows. */
  pump() {
    if (this.connection.status !== "connected") return;
    const now = Date.now();
    this.tokens = Math.min(COMMAND_BURST, this.tokens + ((now - this.refilledAt) / 1000) * COMMANDS_PER_S);
    this.refilledAt = now;
    for (const entry of this.pending.values()) {
      if (entry.sent) continue;
      if (this.tokens < 1) {
        clearTimeout(this.timers.pump);
        const wait = ((1 - this.tokens) / COMMANDS_PER_S) * 1000;
        this.timers.pump = setTimeout(() => this.pump(), Math.ceil(wait));
        return;
      }
      this.tokens -= 1;
      entry.sent = true;
      this.send(entry.message);
    }
  }
}
