// `npm run build`: compiles server/ and shared/ into dist/ with esbuild as bundles: each file that is
// run or loaded by path (ENTRY_POINTS: dist/server/main.js, the handler files, the CLIs, the
// library's index.js) is an ES module, and the code they share, npm packages included, is in a few
// chunks (dist/server/chunks/), so a start reads a handful of files instead of ~1,300 (README
// "Start-up time"). Code loaded only on demand (pdfkit, stripe, resend, the OpenTelemetry SDK:
// dynamic imports) stays in chunks of its own, read when first used. The drizzle migrations are
// copied (dist/drizzle/), as is any non-TypeScript file under server/ or shared/ (templates,
// static files). esbuild is installed even by `npm ci --omit=dev`: tsx, a runtime dependency,
// depends on it.
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
/**
 * The modules run or imported by path, each its own output file at its path under dist/: the
 * server and the CLIs (`node dist/server/main.js`), the handler files (server/jobs/loadJobHandlers.ts
 * imports them by name) and the library's entry. Every other module is bundled into them.
 */
const ENTRY_POINTS = ['server/main.ts', 'server/index.ts', 'server/broker/cli.ts', 'server/db/migrateCli.ts', 'server/auth/tokenCli.ts', 'server/handlers/*.ts'];
/**
 * Packages that read files next to their own code at run time (PGlite its .wasm and .data files,
 * pdfkit its fonts): loaded from node_modules, not bundled. (pino is bundled: jobwire uses no pino
 * transport, whose worker thread starts from a file of pino's; one would need pino listed here.)
 */
const EXTERNAL_PACKAGES = ['@electric-sql/pglite', 'pdfkit'];
/** Copied whole: read at run time relative to the compiled modules (server/db/migrate.ts: `../../drizzle`). */
const COPIED_DIRS = ['drizzle'];
/** Files whose change also makes a build stale: the bundles hold the installed packages' code too. */
const INPUT_FILES = ['package.json', 'package-lock.json', 'node_modules/.package-lock.json', 'scripts/build.mjs'];
const STAMP = '.build-stamp.json';
/** What each output file holds: the source files and packages bundled into it (test/deploy/startupModules.test.ts). */
export const CONTENTS = join('server', '.bundle-contents.json');
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
  const entryPoints = ENTRY_POINTS.flatMap((pattern) => {
    if (!pattern.includes('*')) return [join(root, pattern)];
    const [dir, suffix] = [dirname(pattern), pattern.slice(pattern.lastIndexOf('*') + 1)]; // `dir/*.ts`: the dir's own files
    return filesUnder(join(root, dir)).filter((file) => dirname(file) === join(root, dir) && file.endsWith(suffix) && !file.endsWith('.d.ts'));
  });
  const { outputFiles, metafile } = await esbuild({
    entryPoints,
    absWorkingDir: root,
    outdir: outDir,
    outbase: root,
    bundle: true,
    splitting: true, // one copy of each module, shared by the entry points through chunks
    chunkNames: 'server/chunks/[name]-[hash]',
    external: EXTERNAL_PACKAGES.flatMap((name) => [name, `${name}/*`]),
    plugins: [moduleUrlAsInSources(root)],
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Bundled CommonJS packages call require() for Node's built-in modules.
    banner: { js: "import { createRequire as __jobwireCreateRequire } from 'node:module'; const require = __jobwireCreateRequire(import.meta.url);" },
    sourcemap: 'linked', // stack traces point at the .ts lines with `node --enable-source-maps`
    sourcesContent: false,
    write: false,
    metafile: true,
    logLevel: 'warning',
  });
  for (const file of outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    // Each output file's way up to `outDir` (see moduleUrlAsInSources).
    const up = relative(dirname(file.path), outDir).split(sep).filter(Boolean).map(() => '../').join('') || './';
    writeFileSync(file.path, file.path.endsWith('.js') ? file.text.replaceAll(OUT_ROOT, up) : file.contents);
  }
  writeFileSync(join(outDir, CONTENTS), JSON.stringify(bundleContents(metafile, outDir, root)) + '\n');
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

/** `{ "server/chunks/chunk-….js": ["server/env.ts", "zod", …] }`: each .js output's sources, packages by name. */
function bundleContents(metafile, outDir, root) {
  const packageOf = (path) => {
    const inPackage = path.split('/node_modules/').at(-1).split('/');
    return inPackage[0].startsWith('@') ? `${inPackage[0]}/${inPackage[1]}` : inPackage[0];
  };
  const contents = {};
  for (const [output, { inputs }] of Object.entries(metafile.outputs)) {
    if (!output.endsWith('.js')) continue;
    const names = Object.keys(inputs).map((input) => {
      const own = relative(root, resolve(root, input)).split(sep).join('/');
      return own.startsWith('../') || own.startsWith('node_modules/') ? packageOf(resolve(root, input).split(sep).join('/')) : own;
    });
    contents[relative(outDir, resolve(root, output)).split(sep).join('/')] = [...new Set(names)].sort();
  }
  return contents;
}

/** Placeholder for the path from an output file up to `outDir`, replaced once the files are known. */
const OUT_ROOT = '__JOBWIRE_OUT_ROOT__/';

/**
 * Bundled, a module's `import.meta.url` would be the URL of the output file it landed in (an entry
 * or a chunk). Modules that find files relative to themselves (the handler files, the migrations,
 * the dashboard) need the URL they would have as their own compiled file, `dist/<path>.js`: that is
 * what `import.meta.url` becomes in our sources.
 */
function moduleUrlAsInSources(root) {
  return {
    name: 'module-url-as-in-sources',
    setup(builder) {
      builder.onLoad({ filter: /\.ts$/ }, (args) => {
        const path = relative(root, args.path);
        if (path.startsWith('..') || path.split(sep).includes('node_modules')) return undefined;
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return { contents: source, loader: 'ts' };
        const compiled = path.split(sep).join('/').replace(/\.ts$/, '.js');
        const url = `new URL(${JSON.stringify(compiled)}, new URL(${JSON.stringify(OUT_ROOT)}, import.meta.url)).href`;
        return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
      });
    },
  };
}

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
  // The web UI at /dashboard (scripts/buildDashboard.mjs), beside the server it is served by.
  await (await import('./buildDashboard.mjs')).ensureDashboard(join(outDir, 'dashboard'));
  process.stdout.write(ms > 0 ? `Built ${relative(process.cwd(), outDir) || '.'}${sep} in ${ms} ms\n` : `${relative(process.cwd(), outDir)}${sep} is up to date\n`);
}
