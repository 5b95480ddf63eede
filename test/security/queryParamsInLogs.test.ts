/**
 * Security round 2, item 8: a failed statement used to log (and store as a job's error) every
 * parameter — drizzle's `Failed query: … params: …` — so a password-reset URL or a raw webhook body
 * reached the log in clear. The statement stays; the values do not, through the cause chain too.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../server/db/database.ts';
import { toStoredError } from '../../server/jobs/errors.ts';
import { createTestDatabaseTarget, type TestDatabaseTarget } from '../support/testDatabase.ts';
import { captureLogs } from './support/capturedLogs.ts';

const SECRET = 'reset-token-6b1f0c9e2a';
let target: TestDatabaseTarget;
let database: Database;
beforeAll(async () => {
  target = await createTestDatabaseTarget();
  database = await openDatabase(target.pglite ? { pglite: target.pglite } : { url: target.url });
});
afterAll(async () => {
  await database.close();
  await target.drop();
});

async function failedStatement(): Promise<unknown> {
  return database.db.execute(sql`SELECT ${`https://app.example.com/reset/${SECRET}`}::int AS n`).catch((e: unknown) => e);
}

describe('database errors', () => {
  it('are logged with the statement but without its parameters', async () => {
    const error = await failedStatement();
    expect(String((error as Error).message)).toContain(SECRET); // drizzle's own message has it
    const { log, lines, records } = captureLogs();
    log.error({ err: error }, '[jobs] Delivery could not be processed');
    log.child({ jobId: 'j' }).warn({ err: new Error('wrapped', { cause: error }) }, 'wrapped');
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(JSON.stringify(records()[0])).toContain('Failed query: SELECT $1::int AS n');
    expect(JSON.stringify(records()[0])).toContain('invalid input syntax'); // the database's reason stays
  });

  it('are stored on a job without its parameters', async () => {
    const stored = toStoredError(await failedStatement());
    expect(stored.message).toBe('Failed query: SELECT $1::int AS n');
    expect(JSON.stringify(stored)).not.toContain(SECRET);
  });
});
