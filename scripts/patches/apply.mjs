// `postinstall`: applies jobwire's patches to installed dependencies, idempotently.
//
// postgres.js 3.4.9 (the newest release) kills the process when the backend of a connection that
// a transaction holds is terminated (pg_terminate_backend, a failover, a restart): the transaction's
// ROLLBACK is written to a connection whose socket is already gone, in a setImmediate, so the
// `TypeError: Cannot read properties of null (reading 'write')` is uncaught (porsager/postgres
// #1066, #1154, #1199, #1208; fixes unmerged). The patch makes every such query reject with
// CONNECTION_CLOSED instead, and keeps the bytes of a dead connection out of its next one. It also
// handles the rejection of the array-type lookup a new connection makes (an unhandled 57P01 when the
// connection is terminated during it), and fails a query handed to a connection between its socket's
// error and close, which otherwise waited forever (a delivery's claim retry after a stall cut).
// Checked by test/faults/postgresDriver.test.ts and test/faults/stallGuard.test.ts. Drop it when a release fixes the bug.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';

const MARKER = '/* jobwire-patch: closed-socket */';

/** [file, [search, replacement][]] per patched file, relative to the package root. */
const POSTGRES_EDITS = {
  'connection.js': [
    // A query for a connection whose socket is gone (a transaction's next statement or ROLLBACK after the backend died): reject it.
    [
      "    if (terminated)\n      return queryError(q, Errors.connection('CONNECTION_DESTROYED', options))\n",
      "    if (terminated)\n      return queryError(q, Errors.connection('CONNECTION_DESTROYED', options))\n\n    " + MARKER + "\n    if (!socket)\n      return queryError(q, Errors.connection('CONNECTION_CLOSED', options))\n",
    ],
    // A write scheduled before the socket went away: fail what is in flight instead of throwing in a setImmediate.
    [
      '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n',
      "  function nextWrite(fn) {\n    if (!socket) {\n      chunk = nextWriteTimer = null\n      error(Errors.connection('CONNECTION_CLOSED', options))\n      return false\n    }\n    const x = socket.write(chunk, fn)\n",
    ],
    // Bytes buffered for the dead socket must not prefix the next connection's start-up message.
    [
      '  async function closed(hadError) {\n    incoming = Buffer.alloc(0)\n    remaining = 0\n    incomings = null\n    clearImmediate(nextWriteTimer)\n',
      '  async function closed(hadError) {\n    incoming = Buffer.alloc(0)\n    remaining = 0\n    incomings = null\n    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n',
    ],
    // A socket error fails the queries in flight, but the socket closes only later: a query handed to
    // the connection in between (the caller's retry of a failed one) was neither sent nor failed and
    // waited forever. Fail whatever the connection still holds when it closes, error or not.
    [
      "    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n",
      "    " + MARKER + "\n    ;(query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n",
    ],
    // The array-type lookup a new connection runs first was a floating promise: a connection dropped
    // during it (57P01, ECONNRESET) was an unhandled rejection. Fail the waiting query instead.
    [
      '        initial.reserve && (initial = null)\n        return fetchArrayTypes()\n',
      '        initial.reserve && (initial = null)\n        return fetchArrayTypes().catch(error)\n',
    ],
  ],
  'index.js': [
    // A transaction whose connection closed runs nothing more: its connection may already serve another caller.
    [
      "        new Promise((_, reject) => connection.onclose = reject)\n",
      "        new Promise((_, reject) => connection.onclose = (e) => (dead = e || Errors.connection('CONNECTION_CLOSED', options), reject(e)))\n",
    ],
    [
      '    let savepoints = 0\n      , connection\n      , prepare = null\n',
      '    ' + MARKER + '\n    let savepoints = 0\n      , connection\n      , prepare = null\n      , dead = null\n',
    ],
    [
      '      function handler(q) {\n        q.catch(e => uncaughtError || (uncaughtError = e))\n        c.queue === full\n',
      '      function handler(q) {\n        q.catch(e => uncaughtError || (uncaughtError = e))\n        if (dead)\n          return q.reject(dead)\n        c.queue === full\n',
    ],
  ],
};

const require = createRequire(import.meta.url);
let root;
try {
  root = dirname(require.resolve('postgres')); // <root>/cjs/src/index.js (its exports hide package.json)
} catch {
  process.exit(0); // not installed (yet): nothing to patch
}
const isPackageRoot = (dir) => existsSync(join(dir, 'package.json')) && JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === 'postgres';
while (!isPackageRoot(root) && dirname(root) !== root) root = dirname(root);
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (version !== '3.4.9') {
  process.stderr.write(`scripts/patches/apply.mjs: postgres ${version} is not 3.4.9; its patch was not applied (check whether the release fixes the closed-socket crash)\n`);
  process.exit(0);
}
for (const dir of ['src', 'cjs/src']) {
  for (const [name, edits] of Object.entries(POSTGRES_EDITS)) {
    const file = join(root, dir, name);
    const original = readFileSync(file, 'utf8');
    let text = original;
    // Idempotent per edit, not per file: an edit added later still applies to an install patched before it.
    for (const [search, replacement] of edits) {
      if (text.includes(replacement)) continue;
      if (!text.includes(search)) throw new Error(`scripts/patches/apply.mjs: ${file} does not contain the expected code; the patch needs updating`);
      text = text.replace(search, replacement);
    }
    if (text !== original) writeFileSync(file, text);
  }
}
