// The peer benchmark's own measuring parts (bench/peers/): the statement-counting proxy against the
// real PostgreSQL, and the report's medians, ratios and targets.
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { postgresCpuUs } from '../../bench/peers/machine.ts';
import { record, renderTable, renderTargets, type Results } from '../../bench/peers/report.ts';
import { startStatementProxy } from '../../bench/peers/statementProxy.ts';
import type { Measurement, WorkloadName } from '../../bench/peers/workloads.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';

const ADMIN_URL = new URL(process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

describe.runIf(TEST_DRIVER === 'postgres')('statement-counting proxy', () => {
  it('counts the statements, parses and syncs a client sends through it', async () => {
    const proxy = await startStatementProxy({ host: ADMIN_URL.hostname, port: Number(ADMIN_URL.port || 5432) });
    const url = new URL(ADMIN_URL);
    url.port = String(proxy.port);
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      await sql`SELECT 1`; // connects (and whatever the driver asks first)
      const before = proxy.counts();
      for (let i = 0; i < 5; i++) await sql`SELECT ${i}::int AS n`;
      await sql.begin(async (tx) => {
        await tx`SELECT 1`;
        await tx`SELECT 2`;
      });
      const after = proxy.counts();
      // 5 + BEGIN + 2 + COMMIT; the repeated text is prepared once; one sync per statement.
      expect(after.statements - before.statements).toBe(9);
      expect(after.parses - before.parses).toBe(3);
      expect(after.syncs - before.syncs).toBe(9);
      const [row] = await sql<{ n: number }[]>`SELECT ${41}::int + 1 AS n`;
      expect(row?.n).toBe(42); // answers pass through untouched
    } finally {
      await sql.end({ timeout: 5 });
      await proxy.close();
    }
  });

  it('reads the CPU time of the postgres processes from /proc', async () => {
    const sql = postgres(ADMIN_URL.toString(), { max: 1, onnotice: () => {} });
    try {
      const before = postgresCpuUs();
      expect(before).toBeGreaterThan(0);
      await sql`SELECT count(*) FROM generate_series(1, 3000000)`; // some tens of milliseconds of backend CPU
      expect(postgresCpuUs()! - before!).toBeGreaterThan(0); // non-null on Linux, checked above
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});

describe('peer benchmark report', () => {
  const measurement = (rate: number, extra: Partial<Measurement> = {}): Measurement => ({
    jobs: 100,
    seconds: 100 / rate,
    rate,
    appCpuMs: 1,
    serverCpuMs: undefined,
    pgCpuMs: 1,
    xids: 2,
    wire: undefined,
    ...extra,
  });
  const results = (): Results => {
    const all: Results = new Map();
    const rounds = (system: 'jobwire' | 'graphile' | 'pgboss', workload: WorkloadName, rates: number[], extra?: Partial<Measurement>) => {
      for (const rate of rates) record(all, system, new Map([[workload, measurement(rate, extra)]]));
    };
    rounds('jobwire', 'enqueue', [40, 50, 1_000]); // median 50, whatever the outlier
    rounds('graphile', 'enqueue', [100, 100, 100]);
    rounds('pgboss', 'enqueue', [200, 190, 210]);
    rounds('jobwire', 'floor', [80, 80, 80]);
    rounds('jobwire', 'e2e', [10], { serverCpuMs: 4, xids: 3 });
    return all;
  };

  it('prints medians and jobwire over the best peer', () => {
    const table = renderTable(results(), { callers: 50, batchSize: 50 }, false);
    const row = table.split('\n').find((line) => line.includes('enqueue, unbatched, 50 callers'));
    expect(row?.split('|').map((cell) => cell.trim())).toEqual(['', 'enqueue, unbatched, 50 callers (higher is better)', '50 /s', '100 /s', '200 /s', '0.25', '']);
  });

  it('checks the targets against the same medians', () => {
    const targets = renderTargets(results(), false);
    expect(targets.find((line) => line.includes('tRPC floor'))).toMatch(/^\s+not met\s+.*0\.63×$/); // 50 / 80
    expect(targets.find((line) => line.includes('write transactions'))).toMatch(/^\s+met\s+.*3\.00$/);
    expect(targets.find((line) => line.includes('app-process CPU'))).toMatch(/^\s+not met\s+.*4\.00 ms$/);
    expect(targets.find((line) => line.includes("pg-boss's insert"))).toMatch(/^\s+n\/a\s/);
  });
});
