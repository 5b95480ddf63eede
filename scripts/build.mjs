// `npm run build`: compiles server/ and shared/ into dist/ with esbuild, one .js file per .ts file,
// so everything found by path at run time is where it was: handler files (dist/server/handlers/),
// the drizzle migrations (dist/drizzle/, copied) and any non-TypeScript file under server/ or
// shared/ (templates, static files: copied). Dependencies stay in node_modules (not bundled).
// esbuild is installed even by `npm ci --omit=dev`: tsx, a runtime dependency, depends on it.
//
//   node scripts/build.mjs [--outdir <dir>] [--if-stale]
//
// --if-stale builds only when the sources changed since the last build (`npm start` uses it). A
// lock directory serialises concurrent builds (several instances starting at once on a fresh clone).
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, URL } from 'node:url';
import { parseArgs } from 'node:util';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Compiled: every .ts file; copied: every other file. */
const SOURCE_DIRS = ['server', 'shared'];
/** Copied whole: read at run time relative to the compiled modules (server/db/migrate.ts: `../../drizzle`). */
const COPIED_DIRS = ['drizzle'];
/** Files whose change also makes a build stale. */
const INPUT_FILES = ['package.json', 'scripts/build.mjs'];
const STAMP = '.build-stamp.json';
const LOCK_STALE_MS = 120_000;

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

/** A digest of every input's path, size and modification time: any edit, addition or removal changes it. */
function inputsDigest(root) {
  const hash = createHash('sha256');
  const files = [...[...SOURCE_DIRS, ...COPIED_DIRS].flatMap((dir) => filesUnder(join(root, dir))), ...INPUT_FILES.map((f) => join(root, f))];
  for (const file of files) {
    const stat = statSync(file, { throwIfNoEntry: false });
    hash.update(`${relative(root, file)}\0${stat?.size ?? -1}\0${stat?.mtimeMs ?? -1}\n`);
  }
  return hash.digest('hex');
}

const readStamp = (outDir) => {
  try {
    return JSON.parse(readFileSync(join(outDir, STAMP), 'utf8')).inputs;
  } catch {
    return undefined;
  }
};

/** True when `outDir` holds a build of the current sources. */
export const isFresh = (outDir = join(ROOT, 'dist'), root = ROOT) => readStamp(outDir) === inputsDigest(root);

/** Compiles into `outDir` (replacing what was there); returns the milliseconds it took. */
export async function build(outDir = join(ROOT, 'dist'), root = ROOT) {
  const started = performance.now();
  const { build: esbuild } = await import('esbuild');
  const inputs = inputsDigest(root);
  for (const dir of [...SOURCE_DIRS, ...COPIED_DIRS, STAMP]) rmSync(join(outDir, dir), { recursive: true, force: true });
  const sources = SOURCE_DIRS.flatMap((dir) => filesUnder(join(root, dir)));
  await esbuild({
    entryPoints: sources.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')),
    outdir: outDir,
    outbase: root,
    bundle: true, // with every import external: one output file per input, imports rewritten below
    packages: 'external',
    plugins: [relativeTsImportsAsJs],
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked', // stack traces point at the .ts lines with `node --enable-source-maps`
    logLevel: 'warning',
  });
  for (const file of sources.filter((f) => !f.endsWith('.ts'))) {
    const target = join(outDir, relative(root, file));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(file, target);
  }
  for (const dir of COPIED_DIRS) if (existsSync(join(root, dir))) cpSync(join(root, dir), join(outDir, dir), { recursive: true });
  // Node reads dist/**/*.js as ES modules because of the root package.json's "type": "module".
  writeFileSync(join(outDir, STAMP), JSON.stringify({ inputs, builtAt: new Date().toISOString() }) + '\n');
  return Math.round(performance.now() - started);
}

/** Keeps each relative import external, as the compiled file next to it: `./env.ts` → `./env.js`. */
const relativeTsImportsAsJs = {
  name: 'relative-ts-imports-as-js',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.?\// }, (args) => ({ path: args.path.replace(/\.ts$/, '.js'), external: true }));
  },
};

/** Builds unless `outDir` is fresh, holding a lock so concurrent callers build once. Returns the build time, or 0. */
export async function buildIfStale(outDir = join(ROOT, 'dist'), root = ROOT) {
  if (isFresh(outDir, root)) return 0;
  const lock = `${resolve(outDir)}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      // Another process builds: wait for it, then use its build (or take over a lock it abandoned).
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      await sleep(100);
    }
  }
  try {
    return isFresh(outDir, root) ? 0 : await build(outDir, root);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' }, 'if-stale': { type: 'boolean' } } });
  const outDir = resolve(values.outdir ?? join(ROOT, 'dist'));
  const ms = values['if-stale'] ? await buildIfStale(outDir) : await build(outDir);
  process.stdout.write(ms > 0 ? `Built ${relative(process.cwd(), outDir) || '.'}${sep} in ${ms} ms\n` : `${relative(process.cwd(), outDir)}${sep} is up to date\n`);
}
