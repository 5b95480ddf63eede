/**
 * Group H (tenancy): every procedure that names a job, schedule, webhook event or file treats another organization's
 * as NOT_FOUND, changes nothing, and logs one `security.cross_tenant` line. test/pipeline/tenancy.test.ts
 * covers the typed-client basics; this walks the whole surface (support/surface.ts).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_EVENTS } from '../../server/security/securityEvent.ts';
import { generatedFiles } from '../../server/db/filesSchema.ts';
import { waitFor } from '../support/testServer.ts';
import { rememberSecret } from './support/capturedLogs.ts';
import { callProcedure, startSecurityServer, type SecurityServer } from './support/securityServer.ts';
import { MEMBER_ENQUEUE, PROCEDURES, UNKNOWN_JOB_ID } from './support/surface.ts';

const OWNER = 20;
const STRANGER = 21;
const OWNED_SOURCE_SECRET = 'owned-source-secret-0123456789';

let t: SecurityServer;
let trpc: string;
let jobId: string;
let scheduleId: string;
let webhookEventId: string;
let fileId: string;
beforeAll(async () => {
  // A webhook sender that belongs to OWNER, so its stored events are OWNER's.
  t = await startSecurityServer({ webhookSources: [{ name: 'owned', verify: 'github', secret: rememberSecret(OWNED_SOURCE_SECRET), organizationId: OWNER }] });
  trpc = `${t.server.url}/trpc`;
  const owner = await t.client({ organizationId: OWNER, userId: '200', role: 'admin' });
  ({ jobId } = await owner.jobs.enqueue.mutate({ ...MEMBER_ENQUEUE, idempotencyKey: 'shared-key' }));
  ({ scheduleId } = await owner.jobs.schedule.mutate({ type: 'export-data', cron: '0 3 * * *', payload: MEMBER_ENQUEUE.payload }));
  webhookEventId = await storedWebhookEvent();
  fileId = randomUUID(); // the row is what files.link authorizes against; no bytes needed
  await t.server.database.db.insert(generatedFiles).values({
    id: fileId,
    organizationId: OWNER,
    kind: 'export',
    storageKey: `exports/${fileId}.csv`,
    format: 'csv',
    contentType: 'text/csv',
    fileName: 'owner.csv',
    bytes: 0,
    expiresAt: new Date(Date.now() + 3600_000),
  });
});
afterAll(async () => t?.stopAndScan());

/** Posts a signed delivery to the `owned` source and waits until its event is stored. */
async function storedWebhookEvent(): Promise<string> {
  const body = JSON.stringify({ ref: 'refs/heads/main' });
  const response = await fetch(`${t.server.url}/api/webhooks/owned`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', OWNED_SOURCE_SECRET).update(body).digest('hex')}`,
    },
    body,
  });
  expect(response.status).toBe(200);
  const owner = await t.client({ organizationId: OWNER, role: 'admin' });
  const stored = await waitFor(async () => (await owner.webhooks.list.query({ source: 'owned' }))[0]);
  return stored.webhookEventId;
}

const crossTenantLines = () => t.logs.records(SECURITY_EVENTS.crossTenant);
const targeted = Object.entries(PROCEDURES).filter(([, p]) => p.target);

async function ownerView() {
  const owner = await t.client({ organizationId: OWNER, role: 'admin' });
  const job = await owner.jobs.get.query({ jobId });
  const schedule = (await owner.jobs.schedules.list.query()).find((s) => s.scheduleId === scheduleId);
  const webhookEvent = (await owner.webhooks.list.query({ source: 'owned' })).find((e) => e.webhookEventId === webhookEventId);
  return {
    status: job.status,
    updatedAt: job.updatedAt.getTime(),
    schedule: schedule && { paused: schedule.paused, updatedAt: schedule.updatedAt.getTime() },
    replayedCount: webhookEvent?.replayedCount,
  };
}

describe.each(['admin', 'member'] as const)('a %s of another organization', (role) => {
  // Admin-only procedures refuse members before looking anything up (FORBIDDEN; surface.test.ts).
  it.each(targeted.filter(([, p]) => role === 'admin' || p.access === 'member'))('%s: NOT_FOUND, nothing changes, one security.cross_tenant line', async (path, procedure) => {
    const before = await ownerView();
    const seen = crossTenantLines().length;
    const id = { job: jobId, schedule: scheduleId, webhookEvent: webhookEventId, file: fileId }[procedure.target!.kind]; // `targeted` keeps only rows with a target
    const token = await t.token({ organizationId: STRANGER, userId: '210', role });
    const result = await callProcedure(trpc, { path, type: procedure.type, input: procedure.target!.input(id), token });
    expect(result.error?.data.code).toBe('NOT_FOUND');
    expect(await ownerView()).toEqual(before);
    const lines = crossTenantLines().slice(seen);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, path, organizationId: STRANGER, ownerOrganizationId: OWNER, userId: '210' });
  });
});

it.each(targeted)('%s: an id that exists nowhere is NOT_FOUND and no security event', async (path, procedure) => {
  const seen = crossTenantLines().length;
  const token = await t.token({ organizationId: STRANGER, role: 'admin' });
  const id = procedure.target!.kind === 'schedule' ? 'sch_nothing_here' : UNKNOWN_JOB_ID; // `targeted` keeps only rows with a target
  const result = await callProcedure(trpc, { path, type: procedure.type, input: procedure.target!.input(id), token });
  expect(result.error?.data.code).toBe('NOT_FOUND');
  expect(crossTenantLines().length).toBe(seen);
});

describe('lists and keys never cross organizations', () => {
  it("an idempotency key of another organization makes a new job, not the other's", async () => {
    const stranger = await t.client({ organizationId: STRANGER, role: 'admin' });
    const mine = await stranger.jobs.enqueue.mutate({ ...MEMBER_ENQUEUE, idempotencyKey: 'shared-key' });
    expect(mine).toMatchObject({ deduplicated: false });
    expect(mine.jobId).not.toBe(jobId);
  });

  it("filters and cursors select within the caller's organization only", async () => {
    const owner = await t.client({ organizationId: OWNER, role: 'admin' });
    const stranger = await t.client({ organizationId: STRANGER, role: 'admin' });
    await owner.jobs.enqueue.mutate(MEMBER_ENQUEUE);
    const ownerPage = await owner.jobs.list.query({ limit: 1 });
    expect(ownerPage.nextCursor).not.toBeNull();
    const byOwnerUser = await stranger.jobs.list.query({ userId: '200' });
    expect(byOwnerUser.items).toEqual([]);
    const withOwnerCursor = await stranger.jobs.list.query({ cursor: ownerPage.nextCursor });
    expect(withOwnerCursor.items.every((job) => job.organizationId === STRANGER)).toBe(true);
    expect((await stranger.jobs.schedules.list.query()).map((s) => s.scheduleId)).not.toContain(scheduleId);
  });
});
