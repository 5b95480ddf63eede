import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { queryRows, type DbOrTx } from '../db/database.ts';
import { toError } from '../jobs/errors.ts';

/** How long each readiness check may take before it counts as failed. */
export const READY_TIMEOUT_MS = 2_000;

const journal = new URL('../../drizzle/meta/_journal.json', import.meta.url);

/** How many migrations this build ships (drizzle's journal). */
export function shippedMigrations(): number {
  return (JSON.parse(readFileSync(journal, 'utf8')) as { entries: unknown[] }).entries.length;
}

export interface ReadinessDeps {
  db: DbOrTx;
  /** The broker's base URL (embedded or QStash), once known; undefined while starting. */
  brokerUrl?: (() => string | undefined) | undefined;
  /**
   * False until the server's start-up finished (broker, sweeper, default schedules): a load
   * balancer sends no traffic to an instance still starting. Default: started.
   */
  started?: (() => boolean) | undefined;
}

export interface Readiness {
  ready: boolean;
  checks: { database: boolean; migrations: boolean; broker: boolean | 'unchecked' };
  /** What is not ready, in words. */
  reasons: string[];
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `/readyz`: start-up finished, the database answers, every migration this build ships is applied,
 * and the broker answers HTTP at all (any status: it is reachable). Checks run in parallel, each within 2 s.
 */
export function createReadinessCheck(deps: ReadinessDeps, log: { warn(obj: object, msg: string): void }): () => Promise<Readiness> {
  const expected = shippedMigrations();
  return async () => {
    const database = within(deps.db.execute(sql`SELECT 1`), 'the database').then(() => true);
    const migrations = within(queryRows<{ n: number }>(deps.db, sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`), 'the database').then(([row]) => (row?.n ?? 0) >= expected);
    const url = deps.brokerUrl?.();
    const broker = url === undefined ? Promise.resolve('unchecked' as const) : within(fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(READY_TIMEOUT_MS) }), 'the broker').then(() => true);
    const [db, migrated, reached] = await Promise.allSettled([database, migrations, broker]);
    const ok = <T>(r: PromiseSettledResult<T>, what: string): T | false => {
      if (r.status === 'fulfilled') return r.value;
      log.warn({ err: toError(r.reason), check: what }, '[http] Readiness check failed');
      return false;
    };
    const checks = { database: ok(db, 'database'), migrations: ok(migrated, 'migrations'), broker: ok(reached, 'broker') };
    const reasons = [
      ...(deps.started?.() === false ? ['starting'] : []),
      ...(checks.database ? [] : ['database unreachable']),
      ...(checks.migrations || !checks.database ? [] : [`migrations not applied (this build ships ${expected}; run npm run db:migrate)`]),
      ...(checks.broker === false ? [`broker unreachable at ${url}`] : []),
    ];
    return { ready: reasons.length === 0, checks, reasons };
  };
}
