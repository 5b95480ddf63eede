/**
 * `npm run bench:startup [-- --runs 5] [-- --compiled-only]`: time from spawning the server to the
 * first 200 from /readyz on the embedded defaults (PGlite, embedded broker, dev mailbox), run from
 * TypeScript by tsx (`npm run dev`, and `npm start` before issue 14) and compiled by `node
 * dist/server/main.js` (the bundles `npm start` runs). "first" is a fresh DATA_DIR (PGlite's initdb
 * and every migration), "later" the same DATA_DIR again. Also times `npm run build`. Uses its own
 * ports and a temporary DATA_DIR. On a shared machine take the minimum of several runs (wall time
 * stretches with the load; CPU time much less).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'compiled-only': { type: 'boolean', default: false } } });
const runs = Number(values.runs);

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number }; // a TCP listener's address
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** CPU time (user + system) a process and its children (tsx's esbuild) have used so far, in ms, from /proc (ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); // after "pid (comm) "
  const own = (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime
  const children = readdirSync(`/proc/${pid}/task`).flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean));
  return own + children.map(Number).reduce((sum, child) => sum + cpuMs(child), 0);
}

/**
 * Milliseconds from spawn to the first ready /readyz, and the CPU time the server used to get
 * there (on a loaded machine wall time stretches; CPU time much less); then stops the server.
 */
const portsByDataDir = new Map<string, [number, number]>();

async function timeToReady(args: string[], dataDir: string): Promise<{ wall: number; cpu: number }> {
  // The same ports for every start on one DATA_DIR, as a deployment restarts: the server's URL, and
  // so its default schedule's destination, stay the same (a changed URL registers the schedule again).
  const ports = portsByDataDir.get(dataDir) ?? [await freePort(), await freePort()];
  portsByDataDir.set(dataDir, ports);
  const [port, brokerPort] = ports;
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: String(port), QSTASH_DEV_PORT: String(brokerPort), DATA_DIR: dataDir, LOG_LEVEL: 'warn', ENV_FILES: 'none' },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      if (ready) return { wall: performance.now() - started, cpu: cpuMs(child.pid!) }; // spawned, so it has a pid
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const build = performance.now();
// Its own output folder, so a dist/ other processes run from is left alone; the same build as `npm run build`.
const OUT = 'node_modules/.cache/jobwire-bench-dist';
// build() itself, not the CLI: the dashboard's Vite build (which the CLI adds) is not the server's start.
spawnSync(process.execPath, ['--input-type=module', '-e', `(await import('./scripts/build.mjs')).build(${JSON.stringify(join(ROOT, OUT))})`], { cwd: ROOT, stdio: 'ignore' });
console.log(`server build (npm run build, without the dashboard): ${fmt(performance.now() - build)}   (load average ${loadavg()[0]!.toFixed(1)}, ${runs} later starts each)`);

const variants = [
  ['tsx server/main.ts', ['--import', 'tsx', 'server/main.ts']],
  ['node dist/server/main.js', [`${OUT}/server/main.js`]],
] as const;
for (const [name, args] of values['compiled-only'] ? variants.slice(1) : variants) {
  const dataDir = mkdtempSync(join(tmpdir(), 'jobwire-bench-startup-'));
  try {
    const first = await timeToReady([...args], dataDir);
    const later: Array<{ wall: number; cpu: number }> = [];
    for (let i = 0; i < runs; i++) later.push(await timeToReady([...args], dataDir));
    const wall = later.map((r) => r.wall);
    const cpu = later.map((r) => r.cpu);
    console.log(
      `${name.padEnd(26)} first ${fmt(first.wall)} (CPU ${fmt(first.cpu)})   later: median ${fmt(median(wall))} (CPU ${fmt(median(cpu))}), min ${fmt(Math.min(...wall))}, max ${fmt(Math.max(...wall))}`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
