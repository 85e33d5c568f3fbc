// The meeting's state on the client: the welcome snapshot, and each event folded in.
//
// Pure: no DOM, no network, no clock (times come in as arguments), so that Node's test
// runner checks it against the server's own snapshots (web_client/tests/state.test.mjs).
// `applyEvent(state, message)` returns a new state and never mutates its input; the
// parts an event does not touch are shared with the previous state, so a page can tell
// what changed by identity (`prev.queue !== next.queue`).
//
// The shape is the `welcome.state` of PROTOCOL.md section 3 (plus `devices`, and FLOOR's
// `expired`); `presence` (chair only) and the chat window are outside the fold guarantee.

/** How many of the most recent chat messages a client keeps (the server's window). */
export const CHAT_WINDOW = 200;

/** The state before any event: what folding from seq 0 starts from. */
export function emptyState() {
  return {
    meeting: null,
    participants: {},
    queue: [],
    floor: null,
    interrupted: [],
    list_open: true,
    chat: [],
    seats: {},
    devices: {},
  };
}

function withKey(map, key, value) {
  const copy = { ...map };
  copy[key] = value;
  return copy;
}

function withoutKey(map, key) {
  const copy = { ...map };
  delete copy[key];
  return copy;
}

function insertAt(list, item, position) {
  const copy = list.slice();
  copy.splice(Math.min(position, copy.length), 0, item);
  return copy;
}

/** `participant` stored and seated at `seat` (null: unseated); whoever sat there loses it. */
function seated(state, participant, seat) {
  const seats = { ...state.seats };
  const participants = { ...state.participants };
  const old = state.participants[participant.id];
  if (old && old.seat != null && seats[old.seat] === participant.id) delete seats[old.seat];
  if (seat != null) {
    const displaced = seats[seat];
    if (displaced != null && displaced !== participant.id) {
      participants[displaced] = { ...participants[displaced], seat: null };
    }
    seats[seat] = participant.id;
  }
  participants[participant.id] = { ...participant, seat };
  return { ...state, participants, seats };
}

/**
 * The state after one `event` message ({t:"event", seq, at, by, name, data}).
 * Unknown event names (a later protocol's additions) leave the state as it is.
 */
export function applyEvent(state, event) {
  const d = event.data || {};
  switch (event.name) {
    case "meeting.created":
      return { ...state, meeting: d.meeting };
    case "participant.added":
    case "participant.updated":
      return seated(state, d.participant, d.participant.seat);
    case "participant.removed": {
      const pid = d.participant;
      const gone = state.participants[pid];
      if (!gone) return state;
      let seats = state.seats;
      if (gone.seat != null && seats[gone.seat] === pid) seats = withoutKey(seats, gone.seat);
      return {
        ...state,
        participants: withoutKey(state.participants, pid),
        seats,
        queue: state.queue.filter((r) => r.participant !== pid),
        interrupted: state.interrupted.filter((f) => f.participant !== pid),
      };
    }
    case "device.added":
      return { ...state, devices: withKey(state.devices, d.device.id, d.device) };
    case "floor.requested": {
      const request = {
        id: d.request,
        participant: d.participant,
        kind: d.kind,
        lang: d.lang,
        at: d.at,
        via: d.via,
      };
      return { ...state, queue: insertAt(state.queue, request, d.position) };
    }
    case "floor.withdrawn":
      return { ...state, queue: state.queue.filter((r) => r.id !== d.request) };
    case "floor.moved": {
      const moved = state.queue.find((r) => r.id === d.request);
      if (!moved) return state;
      const rest = state.queue.filter((r) => r.id !== d.request);
      return { ...state, queue: insertAt(rest, moved, d.position) };
    }
    case "floor.granted": {
      const floor = d.floor;
      const queue =
        floor.request != null ? state.queue.filter((r) => r.id !== floor.request) : state.queue;
      return { ...state, floor, queue };
    }
    case "floor.released":
      return { ...state, floor: null };
    case "floor.interrupted":
      return { ...state, floor: null, interrupted: [...state.interrupted, d.floor] };
    case "floor.resumed":
      return { ...state, floor: d.floor, interrupted: state.interrupted.slice(0, -1) };
    case "floor.extended":
    case "floor.paused":
    case "floor.unpaused":
      return { ...state, floor: d.floor };
    case "floor.time_expired":
      return state.floor ? { ...state, floor: { ...state.floor, expired: true } } : state;
    case "list.closed":
      return { ...state, list_open: false };
    case "list.opened":
      return { ...state, list_open: true };
    case "queue.cleared":
      return { ...state, queue: [] };
    case "mute.changed": {
      const p = state.participants[d.participant];
      if (!p) return state;
      const changed = { ...p, self_muted: d.self_muted, hard_muted: d.hard_muted };
      return { ...state, participants: withKey(state.participants, p.id, changed) };
    }
    case "mute.all_set": {
      const participants = { ...state.participants };
      for (const pid of d.participants) {
        if (participants[pid]) participants[pid] = { ...participants[pid], hard_muted: true };
      }
      return { ...state, participants };
    }
    case "chat.posted": {
      const message = { id: d.message, from: d.from, to: d.to, text: d.text, at: d.at };
      const chat = [...state.chat.slice(-(CHAT_WINDOW - 1)), message];
      return { ...state, chat };
    }
    case "chat.deleted":
      return { ...state, chat: state.chat.filter((m) => m.id !== d.message) };
    case "meeting.status_changed":
      return { ...state, meeting: { ...state.meeting, status: d.status } };
    case "settings.changed":
      return { ...state, meeting: { ...state.meeting, settings: d.settings } };
    case "seat.assigned": {
      if (d.participant == null) {
        const occupant = state.seats[d.seat];
        if (occupant == null) return state;
        return {
          ...state,
          participants: withKey(state.participants, occupant, {
            ...state.participants[occupant],
            seat: null,
          }),
          seats: withoutKey(state.seats, d.seat),
        };
      }
      const p = state.participants[d.participant];
      return p ? seated(state, p, d.seat) : state;
    }
    default:
      return state;
  }
}

/** Folds a list of event messages into `state`. */
export function applyEvents(state, events) {
  return events.reduce(applyEvent, state);
}

/** Coalesced presence ({online, offline}) applied to the chair's `presence` map. */
export function applyPresence(state, message) {
  const presence = { ...(state.presence || {}) };
  for (const pid of message.online || []) presence[pid] = true;
  for (const pid of message.offline || []) presence[pid] = false;
  return { ...state, presence };
}

// --- derived values ----------------------------------------------------------------------

/** Milliseconds spoken on `floor` at server time `now`, the running stretch included. */
export function spokenMs(floor, now) {
  const used = Math.round(floor.used_s * 1000);
  if (floor.running_since == null) return used;
  return used + Math.max(0, now - floor.running_since);
}

/**
 * Milliseconds left on `floor` at server time `now` (negative once over time), or null
 * when the floor has no limit. `now` is the server's clock: the browser's plus the offset.
 */
export function remainingMs(floor, now) {
  if (!floor || floor.limit_s === 0) return null;
  return floor.limit_s * 1000 - spokenMs(floor, now);
}

/** Remaining time from FLOOR, the browser's clock and the measured server clock offset. */
export function remainingNow(floor, localNow, offsetMs) {
  return remainingMs(floor, localNow + offsetMs);
}

/** 1-based position of a participant's open request in the queue, or 0 if none. */
export function queuePosition(state, participant) {
  const i = state.queue.findIndex((r) => r.participant === participant);
  return i + 1;
}

/** The open request of a participant, or null. */
export function requestOf(state, participant) {
  return state.queue.find((r) => r.participant === participant) || null;
}

/** Whether a participant's microphone is live (PROTOCOL.md: microphones and mute). */
export function isLive(state, p) {
  if (!p || p.self_muted || p.hard_muted) return false;
  if (p.role === "chair") return true;
  return state.floor != null && state.floor.participant === p.id;
}

/** Every live participant id: the speaker first, then live chairs in roster order. */
export function liveMicrophones(state) {
  const live = [];
  if (state.floor) {
    const speaker = state.participants[state.floor.participant];
    if (speaker && isLive(state, speaker)) live.push(speaker.id);
  }
  for (const p of Object.values(state.participants)) {
    if (p.role === "chair" && !live.includes(p.id) && isLive(state, p)) live.push(p.id);
  }
  return live;
}

/** Whether `participant` speaks now or waits on the interrupted stack. */
export function holdsOrAwaitsFloor(state, participant) {
  if (state.floor && state.floor.participant === participant) return true;
  return state.interrupted.some((f) => f.participant === participant);
}

/** Whether a participant of this role may ask for the floor in this meeting. */
export function mayRequest(state, role) {
  if (role === "chair" || role === "delegate") return true;
  if (role === "observer") return Boolean(state.meeting?.settings?.observers_may_speak);
  return false;
}

/** The state without what is outside the fold guarantee (for comparisons). */
export function comparable(state) {
  const { presence, ...rest } = state;
  return rest;
}
