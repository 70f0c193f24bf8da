// The service worker keeps every file the page needs to start: a module left out of its
// list and a reload while the server is away cannot open the board.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const WEB = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "web");

test("the service worker keeps every module and style sheet of the page", () => {
  const source = readFileSync(join(WEB, "sw.js"), "utf8");
  const shell = JSON.parse(source.match(/const SHELL = (\[[^\]]*\])/)[1].replace(/,\s*\]/, "]"));
  const needed = readdirSync(WEB)
    .filter((name) => (name.endsWith(".js") && name !== "sw.js") || name.endsWith(".css") && name !== "print.css")
    .map((name) => `/${name}`);
  assert.deepEqual(needed.filter((file) => !shell.includes(file)), []);
  const page = readFileSync(join(WEB, "index.html"), "utf8");
  for (const [, file] of page.matchAll(/(?:href|src)="(\/[\w-]+\.(?:css|js))"/g)) assert.ok(shell.includes(file), file);
});
