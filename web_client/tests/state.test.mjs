// state.js against the server: `node --test web_client/tests/`.
//
// With FLOOR_STATE_FIXTURE set (tests/web/test_client_state.py writes it from the Python
// core), each viewer's recorded events folded from its welcome snapshot, and from the empty
// state, must give exactly the server's snapshot. The helpers are checked on their own.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import {
  applyEvent,
  applyEvents,
  applyPresence,
  comparable,
  emptyState,
  liveMicrophones,
  queuePosition,
  remainingMs,
  remainingNow,
  spokenMs,
} from "../js/state.js";

const fixturePath = process.env.FLOOR_STATE_FIXTURE;

describe("folding a recorded meeting", { skip: !fixturePath && "FLOOR_STATE_FIXTURE unset" }, () => {
  const fixtures = fixturePath ? JSON.parse(readFileSync(fixturePath, "utf8")) : {};
  for (const [name, f] of Object.entries(fixtures)) {
    test(`${name}: welcome snapshot + events = server snapshot`, () => {
      assert.ok(f.events.length > 10);
      const frozen = structuredClone(f.state);
      const state = applyEvents(f.state, f.events);
      assert.deepStrictEqual(state, f.expected);
      assert.deepStrictEqual(f.state, frozen, "applyEvent must not mutate its input");
    });
    test(`${name}: empty state + every event = server snapshot`, () => {
      assert.deepStrictEqual(applyEvents(emptyState(), f.from_empty), f.expected);
    });
    test(`${name}: events applied one at a time keep seq order`, () => {
      let seq = f.seq;
      for (const e of f.events) {
        assert.ok(e.seq > seq, `event ${e.seq} after ${seq}`);
        seq = e.seq;
      }
    });
  }
});

const FLOOR = {
  participant: "p-2",
  request: "r-1",
  kind: "speak",
  lang: "en",
  limit_s: 180,
  granted_at: 1000,
  running_since: 11_000,
  used_s: 12.5,
  expired: false,
};

describe("helpers", () => {
  test("remaining time counts the running stretch", () => {
    assert.equal(spokenMs(FLOOR, 21_000), 22_500);
    assert.equal(remainingMs(FLOOR, 21_000), 157_500);
    assert.equal(remainingNow(FLOOR, 20_000, 1_000), 157_500);
  });
  test("remaining time stands still while paused and goes negative over time", () => {
    const paused = { ...FLOOR, running_since: null };
    assert.equal(remainingMs(paused, 99_999_999), 167_500);
    assert.equal(remainingMs({ ...FLOOR, used_s: 179 }, 13_000), -1_000);
  });
  test("no limit gives no remaining time", () => {
    assert.equal(remainingMs({ ...FLOOR, limit_s: 0 }, 0), null);
    assert.equal(remainingMs(null, 0), null);
  });
  test("queue position is 1-based, 0 when not queued", () => {
    const state = {
      ...emptyState(),
      queue: [
        { id: "r-1", participant: "p-1" },
        { id: "r-2", participant: "p-2" },
      ],
    };
    assert.equal(queuePosition(state, "p-2"), 2);
    assert.equal(queuePosition(state, "p-9"), 0);
  });
  test("live microphones: the unmuted speaker, then unmuted chairs", () => {
    const p = (id, role, extra = {}) => ({ id, role, self_muted: false, hard_muted: false, ...extra });
    const state = {
      ...emptyState(),
      participants: {
        c: p("c", "chair"),
        m: p("m", "chair", { self_muted: true }),
        a: p("a", "delegate"),
        b: p("b", "delegate"),
      },
      floor: { ...FLOOR, participant: "a" },
    };
    assert.deepEqual(liveMicrophones(state), ["a", "c"]);
    const muted = applyEvent(state, {
      name: "mute.changed",
      data: { participant: "a", self_muted: false, hard_muted: true },
    });
    assert.deepEqual(liveMicrophones(muted), ["c"]);
  });
  test("presence is merged, not replaced", () => {
    const state = applyPresence({ ...emptyState(), presence: { a: true } }, { online: ["b"], offline: ["a"] });
    assert.deepEqual(state.presence, { a: false, b: true });
    assert.deepEqual(Object.keys(comparable(state)).includes("presence"), false);
  });
  test("unknown events leave the state untouched", () => {
    const state = emptyState();
    assert.equal(applyEvent(state, { name: "future.thing", data: {} }), state);
  });
});
