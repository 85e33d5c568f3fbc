// The six dictionaries: the same keys everywhere, every key the pages use defined, and
// placeholders kept in translation.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import ar from "../js/lang/ar.js";
import en from "../js/lang/en.js";
import es from "../js/lang/es.js";
import fr from "../js/lang/fr.js";
import ru from "../js/lang/ru.js";
import zh from "../js/lang/zh.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OTHERS = { fr, es, ru, zh, ar };
// the strings that are rightly the same as in English
const SAME = new Set([
  "queue.item_label",
  "floor.extend_30",
  "floor.extend_60",
  "fr:people.title",
  "fr:chat.message",
  "fr:people.message",
  "fr:mic.title",
  "fr:people.mute",
  "es:chat.title",
]);
const placeholders = (s) => (typeof s === "string" ? [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort() : []);

for (const [lang, dict] of Object.entries(OTHERS)) {
  test(`${lang} has exactly the English keys, placeholders and string kinds`, () => {
    assert.deepEqual(Object.keys(dict).sort(), Object.keys(en).sort());
    for (const key of Object.keys(en)) {
      assert.equal(typeof dict[key], typeof en[key], key);
      assert.deepEqual(placeholders(dict[key]), placeholders(en[key]), key);
      if (typeof en[key] === "string" && !SAME.has(key) && !SAME.has(`${lang}:${key}`)) {
        assert.notEqual(dict[key], en[key], `${lang} ${key} is not translated`);
      }
    }
    for (const n of [1, 2, 3, 11, 22]) assert.match(dict["join.position"]({ n }), new RegExp(String(n)));
  });
}

test("English ordinals", () => {
  assert.equal(en["join.position"]({ n: 1 }), "You are 1st in line");
  assert.equal(en["join.position"]({ n: 2 }), "You are 2nd in line");
  assert.equal(en["join.position"]({ n: 3 }), "You are 3rd in line");
  assert.equal(en["join.position"]({ n: 11 }), "You are 11th in line");
  assert.equal(en["join.position"]({ n: 22 }), "You are 22nd in line");
});

test("every key the pages use is defined", () => {
  const used = new Set();
  const sources = [
    ...readdirSync(join(ROOT, "js")).filter((f) => f.endsWith(".js")).map((f) => join(ROOT, "js", f)),
    ...readdirSync(ROOT).filter((f) => f.endsWith(".html")).map((f) => join(ROOT, f)),
  ];
  for (const file of sources) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/\bt\("([a-z_.]+)"/g)) used.add(m[1]);
    for (const m of text.matchAll(/data-i18n="([a-z_.]+)"/g)) used.add(m[1]);
    for (const m of text.matchAll(/data-i18n-attr="([^"]+)"/g)) {
      for (const pair of m[1].split(";")) if (pair.includes(":")) used.add(pair.split(":")[1]);
    }
  }
  const dynamic = [
    ...["no_token", "bad_token", "removed", "protocol", "policy", "too_large", "other"].map((r) => `conn.stopped.${r}`),
    ...["chair", "delegate", "observer", "display"].map((r) => `role.${r}`),
    ...["speak", "point_of_order", "reply"].map((k) => `kind.${k}`),
    ...["open", "suspended", "closed"].map((s) => `meeting.${s}`),
    ...["live", "hard", "self", "unmuted"].map((s) => `mic.state_${s}`),
    ...["grant", "up", "down", "remove"].map((a) => `queue.${a}_label`),
  ];
  for (const key of dynamic) used.add(key);
  used.delete("key"); // i18n.js's own comment
  const missing = [...used].filter((key) => !(key in en));
  assert.deepEqual(missing, []);
});
