// `npm run build:dashboard`: builds the web UI (dashboard/, React + Vite) into dist/dashboard,
// which the server serves at /dashboard (server/http/dashboardRoute.ts). `npm start` and
// `npm run build` call `buildDashboardIfStale`: a few stat calls when the build is current, a
// Vite build (seconds) when a source under dashboard/ or shared/ is newer than it.
//
//   node scripts/buildDashboard.mjs [--if-stale] [--outdir <dir>]
//
// Prints the size of the JavaScript and CSS it wrote (raw and gzip), the measure of the bundle.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The app's sources, and what it imports from the server side of the repo (the job catalogue). */
const SOURCE_DIRS = ['dashboard', 'shared'];
const INPUT_FILES = ['scripts/buildDashboard.mjs', 'package.json'];
/** Marks a finished build; the server serves only a directory holding it. Its mtime is the build's. */
export const STAMP = '.dashboard-stamp.json';

function newestInput(root) {
  let newest = 0;
  const files = SOURCE_DIRS.flatMap((dir) => {
    const path = join(root, dir);
    if (!existsSync(path)) return [];
    return readdirSync(path, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
  });
  for (const file of [...files, ...INPUT_FILES.map((f) => join(root, f))]) newest = Math.max(newest, statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
  return newest;
}

/** True when `outDir` holds a build at least as new as every source. */
export function isDashboardFresh(outDir = join(ROOT, 'dist', 'dashboard'), root = ROOT) {
  const built = statSync(join(outDir, STAMP), { throwIfNoEntry: false })?.mtimeMs;
  return built !== undefined && built >= newestInput(root);
}

/** Raw and gzip bytes of the built JavaScript and CSS. */
export function bundleSize(outDir) {
  const assets = join(outDir, 'assets');
  const sizes = { js: { raw: 0, gzip: 0 }, css: { raw: 0, gzip: 0 } };
  for (const name of existsSync(assets) ? readdirSync(assets) : []) {
    const kind = name.endsWith('.js') ? 'js' : name.endsWith('.css') ? 'css' : undefined;
    if (!kind) continue;
    const bytes = readFileSync(join(assets, name));
    sizes[kind].raw += bytes.length;
    sizes[kind].gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return sizes;
}

/** Builds into `outDir` (replacing it whole, so a half-written build is never served); returns the time and sizes. */
export async function buildDashboard(outDir = join(ROOT, 'dist', 'dashboard'), root = ROOT) {
  const started = performance.now();
  // Dev dependencies: loaded only when a build is needed.
  const [{ build }, { default: react }] = await Promise.all([import('vite'), import('@vitejs/plugin-react')]);
  const staging = `${outDir}.tmp-${process.pid}`;
  // Vite sets process.env.NODE_ENV to 'production' for its build, in this process: `npm start` then
  // imports the server here, which would refuse to start as a production server missing its secrets.
  const nodeEnv = process.env.NODE_ENV;
  try {
    await build({
      configFile: false,
      root: join(root, 'dashboard'),
      base: '/dashboard/',
      plugins: [react()],
      logLevel: 'warn',
      build: { outDir: staging, emptyOutDir: true, assetsInlineLimit: 0, target: 'es2022', chunkSizeWarningLimit: 1024 },
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  writeFileSync(join(staging, STAMP), JSON.stringify({ builtAt: new Date().toISOString() }) + '\n');
  try {
    rmSync(outDir, { recursive: true, force: true });
    renameSync(staging, outDir);
  } catch (error) {
    // Another process starting at the same time put its build there first: keep that one.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(outDir, STAMP))) throw error;
  }
  return { ms: Math.round(performance.now() - started), sizes: bundleSize(outDir) };
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
export const describeBuild = ({ ms, sizes }) =>
  `Built the dashboard in ${ms} ms: JavaScript ${kb(sizes.js.raw)} (${kb(sizes.js.gzip)} gzip), CSS ${kb(sizes.css.raw)} (${kb(sizes.css.gzip)} gzip)`;

/**
 * Builds unless the build is current; returns the build's `{ ms, sizes }`, or undefined when
 * nothing was built. Without Vite (`npm ci --omit=dev`) an existing build is kept and a missing
 * one reported: the API still starts, /dashboard answers that it is not built.
 */
export async function buildDashboardIfStale(outDir = join(ROOT, 'dist', 'dashboard'), root = ROOT) {
  // A copy without the app's sources (a server-only checkout) has nothing to build.
  if (!existsSync(join(root, 'dashboard', 'index.html')) || isDashboardFresh(outDir, root)) return undefined;
  try {
    return await buildDashboard(outDir, root);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    process.stderr.write(`The dashboard was not ${existsSync(join(outDir, STAMP)) ? 'rebuilt' : 'built'}: Vite is not installed (npm ci --omit=dev). Build it where dev dependencies are.\n`);
    return undefined;
  }
}

/** What `npm start` and `npm run build` call: builds when stale and says so, silent otherwise. */
export async function ensureDashboard(outDir = join(ROOT, 'dist', 'dashboard')) {
  const result = await buildDashboardIfStale(outDir);
  if (result) process.stdout.write(`${describeBuild(result)} (sources changed since the last build)\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' }, 'if-stale': { type: 'boolean' } } });
  const outDir = resolve(values.outdir ?? join(ROOT, 'dist', 'dashboard'));
  const result = values['if-stale'] ? await buildDashboardIfStale(outDir) : await buildDashboard(outDir);
  process.stdout.write(result ? `${describeBuild(result)} into ${relative(process.cwd(), outDir)}\n` : `${relative(process.cwd(), outDir)} is up to date: JavaScript ${kb(bundleSize(outDir).js.gzip)} gzip\n`);
}
