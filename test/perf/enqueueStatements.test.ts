/**
 * What one enqueue costs the database (issue 16), counted from the statements the app sends: the
 * job, its event and its NOTIFY are one statement, publishing stamps the message id in one more,
 * and a batch costs the same two statements as a single job. PostgreSQL only: the count comes
 * from postgres.js's per-statement hook.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishBatcher } from '../../server/jobs/publishBatcher.ts';
import { startServer, type RunningServer, type ServerConfig } from '../../server/startServer.ts';
import { createTestDatabaseTarget, TEST_DRIVER, type TestDatabaseTarget } from '../support/testDatabase.ts';
import { countStatements } from './statementCounter.ts';

// The jobs' own tables: another writer of the server process that runs meanwhile is not the enqueue's.
const counter = countStatements((text) => /\bjob_(executions|events)\b/.test(text));
let target: TestDatabaseTarget;
let server: RunningServer;

describe.skipIf(TEST_DRIVER !== 'postgres')('statements per enqueue', () => {
  beforeAll(async () => {
    target = await createTestDatabaseTarget('postgres');
    // `onStatement` is an `openDatabase` option that `ServerConfig.database` passes through.
    const database = { url: target.url, onStatement: counter.onStatement } as ServerConfig['database'];
    server = await startServer({
      port: 0,
      database,
      qstash: { embedded: { port: 0 } },
      authSecret: 'statements-secret-0123456789abcdef0123',
      email: { from: 'perf <p@jobwire.test>', mailboxDir: mkdtempSync(join(tmpdir(), 'jobwire-statements-')) },
      log: pino({ level: 'silent' }),
      defaultSchedules: false,
      sweeper: { intervalMs: 3_600_000 },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await target?.drop();
  });

  /** Until the server has sent no statement for 300 ms (at most 10 s). */
  async function quiet(): Promise<void> {
    for (let seen = -1, waited = 0; waited < 10_000; waited += 300) {
      if (counter.texts().length === seen) return;
      seen = counter.texts().length;
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  const published = () => publishBatcher(server.jobs).flush();
  const job = (i: number) => ({ type: 'send-email' as const, payload: { to: `s${i}@example.com`, template: 'welcome' as const }, options: { delay: 3_600_000 } });

  it('one enqueue: one statement and no transaction block for the job, its event and NOTIFY; one to record the publish', async () => {
    await server.dispatcher.enqueue(job(0).type, job(0).payload, {}, job(0).options); // warm-up
    await quiet(); // the first publish tells the sweeper the broker is reachable, and it makes a pass: not the enqueue's
    counter.reset();
    await server.dispatcher.enqueue(job(1).type, job(1).payload, {}, job(1).options);
    await published(); // enqueue answers once the row is committed; the stamp follows the publish
    expect(counter.snapshot(), counter.texts().join('\n')).toEqual({ statements: 2, writeStatements: 2, writeTransactions: 2 });
  });

  it('fifty jobs through enqueueMany cost the same two statements (one insert, one batch publish, one stamp)', async () => {
    counter.reset();
    const results = await server.dispatcher.enqueueMany(Array.from({ length: 50 }, (_, i) => job(100 + i)));
    await published();
    expect(results.every((r) => r.ok && !r.deduplicated)).toBe(true);
    expect(counter.snapshot(), counter.texts().join('\n')).toEqual({ statements: 2, writeStatements: 2, writeTransactions: 2 });
  });

  it('an idempotent repeat reads the existing job in one more statement and publishes nothing', async () => {
    const keyed = { ...job(200).options, idempotencyKey: 'stmt-key' };
    const first = await server.dispatcher.enqueue('send-email', job(200).payload, {}, keyed);
    await published();
    counter.reset();
    expect(await server.dispatcher.enqueue('send-email', job(200).payload, {}, keyed)).toBe(first);
    await published();
    expect(counter.snapshot(), counter.texts().join('\n')).toEqual({ statements: 2, writeStatements: 1, writeTransactions: 1 });
  });
});
