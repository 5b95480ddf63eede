/**
 * No stack trace or SQL in any response, in any mode: this file runs with NODE_ENV=development
 * (tRPC's default would add stacks there; jobwire sets `isDev: false` and hides internal
 * messages), against a database whose jobs table has vanished, so every query fails with SQL.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { QSTASH_DEV_CURRENT_SIGNING_KEY } from '../../server/env.ts';
import { signDelivery } from '../support/signDelivery.ts';
import { rememberSecret } from './support/capturedLogs.ts';
import { callProcedure, startSecurityServer, type SecurityServer } from './support/securityServer.ts';
import { MEMBER_ENQUEUE } from './support/surface.ts';

const previousNodeEnv = vi.hoisted(() => {
  const previous = process.env.NODE_ENV;
  process.env.NODE_ENV = 'development'; // before any module (tRPC's root) is loaded
  return previous;
});

const LEAKS = /job_executions|select |insert into|relation|does not exist|syntax|postgres|pglite|\.ts:\d+|node_modules|\bat [\w.<>]+ \(|"stack"/i;

let t: SecurityServer;
let token: string;
let jobId: string;
beforeAll(async () => {
  t = await startSecurityServer({ sweeper: { intervalMs: 3_600_000 } });
  token = await t.token({ organizationId: 70, role: 'admin' });
  ({ jobId } = await (await t.client({ organizationId: 70 })).jobs.enqueue.mutate(MEMBER_ENQUEUE));
  await t.server.database.db.execute(sql`ALTER TABLE job_executions RENAME TO job_executions_hidden`);
});
afterAll(async () => {
  await t?.server.database.db.execute(sql`ALTER TABLE job_executions_hidden RENAME TO job_executions`);
  await t?.stopAndScan();
  process.env.NODE_ENV = previousNodeEnv;
});

it('runs in development mode', () => {
  expect(process.env.NODE_ENV).toBe('development');
});

it.each([
  ['jobs.get', 'query', () => ({ jobId })],
  ['jobs.list', 'query', () => ({})],
  ['jobs.enqueue', 'mutation', () => MEMBER_ENQUEUE],
  ['jobs.cancel', 'mutation', () => ({ jobId })],
] as const)('%s answers a failing query with a generic INTERNAL_SERVER_ERROR, and logs the cause', async (path, type, input) => {
  const errorsBefore = t.logs.records().filter((r) => r.level === 50).length;
  const result = await callProcedure(`${t.server.url}/trpc`, { path, type, input: input(), token });
  expect(result.status).toBe(500);
  expect(result.error?.message).toBe('Internal server error');
  expect(result.error?.data.stack).toBeUndefined();
  expect(result.text).not.toMatch(LEAKS);
  expect(t.logs.records().filter((r) => r.level === 50).length).toBeGreaterThan(errorsBefore);
});

// Our own statements failing says nothing about the job (issue 15): the broker is asked to come
// back (503 + Retry-After) without spending an attempt, and the answer names nothing internal.
it('answers a delivery whose statements fail with a bare 503 and Retry-After', async () => {
  const body = JSON.stringify({ jobId, type: 'export-data', payload: {}, metadata: {} });
  const url = `${t.server.publicUrl}/api/jobs/email`;
  const signature = rememberSecret(await signDelivery({ url, body, key: QSTASH_DEV_CURRENT_SIGNING_KEY }));
  const res = await fetch(`${t.server.url}/api/jobs/email`, { method: 'POST', headers: { 'upstash-signature': signature }, body });
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('1');
  const text = await res.text();
  expect(JSON.parse(text)).toEqual({ kind: 'busy', jobId, retryAfterMs: 1000 });
  expect(text).not.toMatch(LEAKS);
});

it('runs tRPC with isDev pinned off, whatever NODE_ENV says (tRPC would otherwise add stacks in development)', async () => {
  const { appRouter } = await import('../../server/trpc/root.ts');
  expect(appRouter._def._config.isDev).toBe(false);
});
