// The peer benchmark's table: medians over rounds, jobwire against the best peer, PGlite against
// PostgreSQL, and the issue's targets.
import type { SystemName } from './system.ts';
import type { Measurement, WorkloadName } from './workloads.ts';

/** Every round's measurement, by workload and system. */
export type Results = Map<WorkloadName, Map<SystemName, Measurement[]>>;

export function record(results: Results, system: SystemName, measured: Map<WorkloadName, Measurement>): void {
  for (const [workload, measurement] of measured) {
    const bySystem = results.get(workload) ?? new Map<SystemName, Measurement[]>();
    results.set(workload, bySystem);
    bySystem.set(system, [...(bySystem.get(system) ?? []), measurement]);
  }
}

const median = (values: number[]): number => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2; // indexes within the sorted, non-empty list
};

/** The median over rounds of one number of one workload of one system. */
function value(results: Results, workload: WorkloadName, system: SystemName, pick: (m: Measurement) => number | null | undefined): number {
  return median((results.get(workload)?.get(system) ?? []).map((m) => pick(m) ?? NaN));
}

type Better = 'higher' | 'lower';
interface Row {
  label: string;
  workload: WorkloadName;
  pick: (m: Measurement) => number | null | undefined;
  better: Better;
  format: (v: number) => string;
  /** Compare jobwire with the peers' values of another workload (the typed client against their unbatched enqueue). */
  peersFrom?: WorkloadName;
  jobwireOnly?: boolean;
}

const rate = (v: number) => (Number.isFinite(v) ? `${Math.round(v).toLocaleString('en-US')} /s` : '—');
const ms = (v: number) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms` : '—');
const count = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '—');

const ROWS: Row[] = [
  { label: 'tRPC floor (same stack, no database), callers', workload: 'floor', pick: (m) => m.rate, better: 'higher', format: rate, jobwireOnly: true },
  { label: 'enqueue, unbatched, callers', workload: 'enqueue', pick: (m) => m.rate, better: 'higher', format: rate },
  { label: 'enqueue, typed client (httpBatchLink), callers; peers: unbatched', workload: 'enqueueTyped', pick: (m) => m.rate, better: 'higher', format: rate, peersFrom: 'enqueue' },
  { label: 'enqueue, batches', workload: 'enqueueBatch', pick: (m) => m.rate, better: 'higher', format: rate },
  { label: 'end to end, no-op job, producers', workload: 'e2e', pick: (m) => m.rate, better: 'higher', format: rate },
  { label: 'latency p50, enqueue → handler start', workload: 'latency', pick: (m) => m.latency?.startP50, better: 'lower', format: ms },
  { label: 'latency p99, enqueue → handler start', workload: 'latency', pick: (m) => m.latency?.startP99, better: 'lower', format: ms },
  { label: 'latency p50, enqueue → completed (pg-boss: not observable)', workload: 'latency', pick: (m) => m.latency?.completedP50, better: 'lower', format: ms },
  { label: 'latency p99, enqueue → completed', workload: 'latency', pick: (m) => m.latency?.completedP99, better: 'lower', format: ms },
  { label: 'CPU per job, end to end, app + PostgreSQL', workload: 'e2e', pick: (m) => m.appCpuMs + (m.pgCpuMs ?? 0), better: 'lower', format: ms },
  { label: '  of which app processes (bench callers included)', workload: 'e2e', pick: (m) => m.appCpuMs, better: 'lower', format: ms },
  { label: '  of which PostgreSQL (machine-wide)', workload: 'e2e', pick: (m) => m.pgCpuMs, better: 'lower', format: ms },
  { label: '  jobwire server process alone (broker included)', workload: 'e2e', pick: (m) => m.serverCpuMs, better: 'lower', format: ms, jobwireOnly: true },
  { label: 'CPU per job, enqueue unbatched, app + PostgreSQL', workload: 'enqueue', pick: (m) => m.appCpuMs + (m.pgCpuMs ?? 0), better: 'lower', format: ms },
  { label: '  jobwire server process alone', workload: 'enqueue', pick: (m) => m.serverCpuMs, better: 'lower', format: ms, jobwireOnly: true },
  { label: '  the tRPC floor\'s server process, per call', workload: 'floor', pick: (m) => m.serverCpuMs, better: 'lower', format: ms, jobwireOnly: true },
  { label: 'CPU per call, enqueue unbatched and the floor: the callers\' process', workload: 'enqueue', pick: (m) => m.appCpuMs - (m.serverCpuMs ?? NaN), better: 'lower', format: ms, jobwireOnly: true },
  { label: 'write transactions per job, end to end (xids)', workload: 'e2e', pick: (m) => m.xids, better: 'lower', format: count },
  { label: 'write transactions per job, enqueue unbatched', workload: 'enqueue', pick: (m) => m.xids, better: 'lower', format: count },
  { label: 'statements per job, end to end (counting pass)', workload: 'e2e', pick: (m) => m.wire?.statements, better: 'lower', format: count },
  { label: '  Parse messages per job (unprepared statements)', workload: 'e2e', pick: (m) => m.wire?.parses, better: 'lower', format: count },
  { label: 'statements per job, enqueue unbatched (counting pass)', workload: 'enqueue', pick: (m) => m.wire?.statements, better: 'lower', format: count },
  { label: 'statements per job, enqueue batches (counting pass)', workload: 'enqueueBatch', pick: (m) => m.wire?.statements, better: 'lower', format: count },
];

const PEERS: SystemName[] = ['graphile', 'pgboss'];

/** jobwire's value over the best peer's: above 1 is better for rates, below 1 for costs. */
function ratio(jobwire: number, peers: number[], better: Better): number {
  const known = peers.filter((p) => Number.isFinite(p));
  if (!Number.isFinite(jobwire) || !known.length) return NaN;
  const best = better === 'higher' ? Math.max(...known) : Math.min(...known);
  return best === 0 ? NaN : jobwire / best;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function renderTable(results: Results, labels: { callers: number; batchSize: number }, withPglite: boolean): string {
  const header = ['workload (medians)', 'jobwire', 'graphile-worker', 'pg-boss', 'jobwire / best peer', ...(withPglite ? ['jobwire PGlite', 'PGlite / PostgreSQL'] : [])];
  const rows = ROWS.filter((row) => results.has(row.workload)).map((row) => {
    const jobwire = value(results, row.workload, 'jobwire', row.pick);
    const peers = PEERS.map((p) => (row.jobwireOnly ? NaN : value(results, row.peersFrom ?? row.workload, p, row.pick)));
    const r = ratio(jobwire, peers, row.better);
    const pglite = value(results, row.workload, 'jobwire-pglite', row.pick);
    const label = row.label.replace('callers', `${labels.callers} callers`).replace('producers', `${labels.callers} producers`).replace('batches', `batches of ${labels.batchSize}`);
    return [
      `${label} (${row.better} is better)`,
      row.format(jobwire),
      ...peers.map((p) => (row.peersFrom && Number.isFinite(p) ? `(${row.format(p)})` : row.format(p))),
      Number.isFinite(r) ? r.toFixed(2) : '',
      ...(withPglite ? [row.format(pglite), Number.isFinite(pglite / jobwire) ? (pglite / jobwire).toFixed(2) : ''] : []),
    ];
  });
  return table(header, rows);
}

/** The issue's targets (issue 16), computed from the same medians. */
export function renderTargets(results: Results, withPglite: boolean): string[] {
  const v = (w: WorkloadName, s: SystemName, pick: (m: Measurement) => number | null | undefined) => value(results, w, s, pick);
  const r = (m: Measurement) => m.rate;
  const lines: Array<[string, number, (x: number) => boolean, (x: number) => string]> = [
    ['enqueue, one call per request ≥ 0.8× the tRPC floor', v('enqueue', 'jobwire', r) / v('floor', 'jobwire', r), (x) => x >= 0.8, (x) => `${x.toFixed(2)}×`],
    ["enqueue, typed client, callers ≥ 1.0× graphile-worker's addJob", v('enqueueTyped', 'jobwire', r) / v('enqueue', 'graphile', r), (x) => x >= 1, (x) => `${x.toFixed(2)}×`],
    ["enqueue, batches ≥ 1.0× pg-boss's insert", v('enqueueBatch', 'jobwire', r) / v('enqueueBatch', 'pgboss', r), (x) => x >= 1, (x) => `${x.toFixed(2)}×`],
    ['end to end ≥ 1.0× graphile-worker', v('e2e', 'jobwire', r) / v('e2e', 'graphile', r), (x) => x >= 1, (x) => `${x.toFixed(2)}×`],
    ['end to end ≥ 0.5× pg-boss', v('e2e', 'jobwire', r) / v('e2e', 'pgboss', r), (x) => x >= 0.5, (x) => `${x.toFixed(2)}×`],
    ['enqueue → completed p50 ≤ 10 ms', v('latency', 'jobwire', (m) => m.latency?.completedP50), (x) => x <= 10, ms],
    ['write transactions per job, end to end ≤ 3', v('e2e', 'jobwire', (m) => m.xids), (x) => x <= 3, count],
    ['app-process CPU per job, end to end ≤ 3 ms (server process)', v('e2e', 'jobwire', (m) => m.serverCpuMs), (x) => x <= 3, ms],
  ];
  if (withPglite) {
    for (const [label, workload] of [['enqueue unbatched', 'enqueue'], ['enqueue typed', 'enqueueTyped'], ['enqueue batches', 'enqueueBatch'], ['end to end', 'e2e']] as const) {
      lines.push([`PGlite within 2× of PostgreSQL: ${label}`, v(workload, 'jobwire', r) / v(workload, 'jobwire-pglite', r), (x) => x <= 2, (x) => `PostgreSQL/PGlite ${x.toFixed(2)}`]);
    }
  }
  return lines.map(([label, x, ok, format]) => `  ${Number.isFinite(x) ? (ok(x) ? 'met    ' : 'not met') : 'n/a    '}  ${label}: ${Number.isFinite(x) ? format(x) : 'not measured'}`);
}
