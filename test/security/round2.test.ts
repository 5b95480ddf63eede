/**
 * Security round 2: the smaller findings of the outside review, each driven from outside as the
 * attacker did (typed tRPC client, raw HTTP), each failing before its fix.
 */
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobExecutions } from '../../server/db/schema.ts';
import { trpcCode } from '../support/testServer.ts';
import { startSecurityServer, type SecurityServer } from './support/securityServer.ts';

let t: SecurityServer;
beforeAll(async () => {
  t = await startSecurityServer();
});
afterAll(async () => t?.stopAndScan());

const jobCount = async () => (await t.server.database.db.select({ n: count() }).from(jobExecutions))[0]?.n;
const refusal = (promise: Promise<unknown>) => promise.then(() => 'accepted', (e: unknown) => trpcCode(e));

describe('item 13: forwarded header values are RFC 9110 field values', () => {
  it.each(['a\r\nX-Injected: 1', 'a\nb', 'nul\u0000', 'bell\u0007'])('refuses %j with BAD_REQUEST and stores nothing', async (value) => {
    const admin = await t.client({ organizationId: 130, role: 'admin' });
    const before = await jobCount();
    const payload = { to: 'a@example.com', template: 'welcome', data: {} } as const;
    expect(await refusal(admin.jobs.enqueue.mutate({ type: 'send-email', payload, options: { headers: { 'X-Trace': value } } }))).toBe('BAD_REQUEST');
    expect(await jobCount()).toBe(before);
  });

  it('still accepts tabs and non-ASCII text', async () => {
    const admin = await t.client({ organizationId: 130, role: 'admin' });
    const payload = { to: 'a@example.com', template: 'welcome', data: {} } as const;
    await expect(admin.jobs.enqueue.mutate({ type: 'send-email', payload, options: { headers: { 'X-Trace': 'a\tb é' } } })).resolves.toMatchObject({ deduplicated: false });
  });
});
