// `npm start`: compiles server/ into dist/ when dist/ is missing or older than the sources
// (scripts/build.mjs, a few seconds, once), then runs dist/server/main.js with plain node, in this
// process. Containers can build at image time (`npm run build`) and run `node dist/server/main.js`.
import module from 'node:module';
import process from 'node:process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIfStale, ROOT } from './build.mjs';
import { ensureDashboard } from './buildDashboard.mjs';

// Node's env-file parser (util.parseEnv) arrived in 20.12; package.json "engines" lists what is supported.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 12)) {
  process.stderr.write(`\njobwire could not start: it needs Node.js 20.12 or later (20, 22 or 24 LTS); this is ${process.version}.\n\n`);
  process.exit(1);
}

// Node 22.1+ keeps V8's compiled code of every module loaded from here on (in the temp directory):
// later starts skip compiling them. Absent on Node 20, where this is a no-op.
module.enableCompileCache?.();

const outDir = join(ROOT, 'dist');
const ms = await buildIfStale(outDir);
if (ms > 0) process.stdout.write(`Compiled server/ into dist/ in ${ms} ms (sources changed since the last build)\n`);
// The web UI at /dashboard: a Vite build when dashboard/ or shared/ changed since the last one, else a few stat calls.
await ensureDashboard(join(outDir, 'dashboard'));
await import(pathToFileURL(join(outDir, 'server', 'main.js')).href);
