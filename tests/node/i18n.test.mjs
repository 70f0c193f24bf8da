// Every string the page shows exists in both languages, with the same placeholders, and
// every key the modules name in their code is in the dictionaries.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { DICTIONARIES } from "../../web/i18n.js";

const WEB = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "web");
const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test("French and English hold the same keys", () => {
  const fr = Object.keys(DICTIONARIES.fr).sort();
  const en = Object.keys(DICTIONARIES.en).sort();
  assert.deepEqual(fr.filter((k) => !en.includes(k)), [], "missing in English");
  assert.deepEqual(en.filter((k) => !fr.includes(k)), [], "missing in French");
});

test("each English string has its French string's placeholders", () => {
  for (const [key, text] of Object.entries(DICTIONARIES.fr)) {
    assert.deepEqual(placeholders(DICTIONARIES.en[key] ?? ""), placeholders(text), key);
  }
});

test("every data-i18n key of the pages and every literal key of the modules exists", () => {
  const missing = [];
  let found = 0;
  for (const name of readdirSync(WEB)) {
    const source = readFileSync(join(WEB, name), "utf8");
    let keys = [];
    if (name.endsWith(".html")) {
      keys = [...source.matchAll(/data-i18n(?:-label|-placeholder)?="([^"]+)"/g)].map((m) => m[1]);
    } else if (name.endsWith(".js") && name !== "i18n.js") {
      // label(node, "key"…), el(tag, class, "key"…), t("key"…), nameIt(node, "key"…)
      const calls = /\b(?:label|t|nameIt)\(\s*[^,()"]*,?\s*"([a-zA-Z]+\.[\w.]+)"|\bt\(\s*"([a-zA-Z]+\.[\w.]+)"|\bel\(\s*"\w+",\s*[^,]*,\s*"([a-zA-Z]+\.[\w.]+)"/g;
      keys = [...source.matchAll(calls)].map((m) => m[1] ?? m[2] ?? m[3]);
    }
    found += keys.length;
    for (const key of keys) if (!(key in DICTIONARIES.fr)) missing.push(`${name}: ${key}`);
  }
  assert.ok(found > 300, `only ${found} keys found: the patterns no longer match the code`);
  assert.deepEqual(missing, []);
});
