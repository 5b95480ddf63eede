import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { jobExecutions } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import { toError } from './errors.ts';
import { lockedInOrder } from './transition.ts';

/**
 * How long a claim holds its job without a heartbeat. The process renews the lease of every
 * attempt it runs (handler or settle) every `LEASE_RENEW_MS`, so a live attempt keeps its job
 * however long its handler runs, and the job of a process that died (kill -9) is free again
 * within `LEASE_MS` instead of the handler's whole time limit.
 */
export const LEASE_MS = 10_000;
export const LEASE_RENEW_MS = 2_000;
const LEASE_RETRY_MS = 250;

interface Running {
  jobId: string;
  token: string;
}

/** The attempts this process runs on one database: who holds which job, with their leases renewed. */
export interface AttemptRegistry {
  /** Whether an attempt of this process holds (or is claiming, or settling) `jobId`. */
  holds(jobId: string): boolean;
  /** Registers an attempt before its claim; the returned function ends it (after its settle). */
  begin(jobId: string, token: string): () => void;
}

const registries = new WeakMap<Db, AttemptRegistry>();

/** The registry of `db` (one per database the process uses, so several servers in one process stay apart). */
export function attemptsOf(db: Db, log: Logger): AttemptRegistry {
  let registry = registries.get(db);
  if (!registry) {
    registry = createRegistry(db, log);
    registries.set(db, registry);
  }
  return registry;
}

function createRegistry(db: Db, log: Logger): AttemptRegistry {
  const running = new Map<string, Running>();
  let timer: NodeJS.Timeout | undefined;
  let renewing = false;

  async function renew() {
    if (renewing || running.size === 0) return;
    renewing = true;
    const attempts = [...running.values()];
    try {
      // One statement for every attempt of the process; only the attempts still holding their job match.
      await db
        .update(jobExecutions)
        .set({ leaseUntil: sql`now() + ${LEASE_MS} * interval '1 millisecond'` })
        .where(
          and(
            inArray(jobExecutions.id, attempts.map((a) => a.jobId)),
            inArray(jobExecutions.attemptToken, attempts.map((a) => a.token)),
            eq(jobExecutions.status, 'processing'),
            lockedInOrder(attempts.map((a) => a.jobId)),
          ),
        );
    } catch (error) {
      log.warn({ err: toError(error), attempts: attempts.length }, '[jobs] Could not renew attempt leases; retrying');
      // Soon, not at the next tick: a few missed renewals must not let a live attempt's lease lapse.
      setTimeout(() => void renew(), LEASE_RETRY_MS).unref();
    } finally {
      renewing = false;
    }
  }

  return {
    holds: (jobId) => running.has(jobId),
    begin(jobId, token) {
      running.set(jobId, { jobId, token });
      timer ??= setInterval(() => void renew(), LEASE_RENEW_MS).unref();
      return () => {
        if (running.get(jobId)?.token === token) running.delete(jobId);
        if (running.size === 0 && timer) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
  };
}
