/** `GET /api/admin/job-health`: the seed's monitoring endpoint ("Monitoring and Alerting"). */
// The seed's fields are matched exactly; `causes` and `signals` (issue 11) are test/ops/health.test.ts's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../server/auth/token.ts';
import type { JobHealth } from '../../server/jobs/jobHealth.ts';
import { seedJobs } from '../support/seedJobs.ts';
import { startTestServer, TEST_AUTH_SECRET, type TestServer } from '../support/testServer.ts';

let t: TestServer;
const HOUR = 3_600_000;

beforeAll(async () => {
  t = await startTestServer();
  const db = t.server.database.db;
  // Organization 501: 1 failed in 20 (5 %), plus failures older than the hour.
  await seedJobs(db, { organizationId: 501, count: 19, status: 'completed' });
  await seedJobs(db, { organizationId: 501, count: 1, status: 'failed' });
  await seedJobs(db, { organizationId: 501, count: 30, status: 'failed', createdAt: new Date(Date.now() - 3 * HOUR) });
  // Organization 502: 1 failed in 100, and work in flight.
  await seedJobs(db, { organizationId: 502, count: 97, status: 'completed' });
  await seedJobs(db, { organizationId: 502, count: 1, status: 'failed' });
  await seedJobs(db, { organizationId: 502, count: 2, status: 'processing' });
});
afterAll(async () => t?.stop());

async function health(token?: string): Promise<{ status: number; body: JobHealth | { error: string } }> {
  const response = await fetch(`${t.server.url}/api/admin/job-health`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  return { status: response.status, body: (await response.json()) as JobHealth | { error: string } };
}
const admin = (organizationId: number) => t.token({ organizationId, role: 'admin' });

describe('GET /api/admin/job-health', () => {
  it("gives an admin its organization's last hour: unhealthy at 5 % failed", async () => {
    expect(await health(await admin(501))).toMatchObject({
      status: 200,
      body: {
        stats: [
          { status: 'completed', count: 19 },
          { status: 'failed', count: 1 },
        ],
        failureRate: 0.05,
        totalJobs: 20,
        health: 'unhealthy',
      },
    });
  });

  it('counts no other organization’s jobs: healthy below 5 %', async () => {
    expect(await health(await admin(502))).toMatchObject({
      status: 200,
      body: {
        stats: [
          { status: 'completed', count: 97 },
          { status: 'failed', count: 1 },
          { status: 'processing', count: 2 },
        ],
        failureRate: 0.01,
        totalJobs: 100,
        health: 'healthy',
      },
    });
  });

  it('calls an hour without jobs healthy', async () => {
    expect(await health(await admin(503))).toMatchObject({ status: 200, body: { stats: [], failureRate: 0, totalJobs: 0, health: 'healthy' } });
  });

  it('gives an operator every organization', async () => {
    const operator = await signToken({ userId: '9', organizationId: 503, role: 'operator' }, TEST_AUTH_SECRET);
    const { status, body } = await health(operator);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      stats: [
        { status: 'completed', count: 116 },
        { status: 'failed', count: 2 },
        { status: 'processing', count: 2 },
      ],
      failureRate: 2 / 120,
      totalJobs: 120,
      health: 'healthy',
    });
  });

  it('refuses members (403) and callers without a valid token (401)', async () => {
    expect(await health(await t.token({ organizationId: 501, role: 'member' }))).toEqual({ status: 403, body: { error: 'admin or operator role required' } });
    expect((await health()).status).toBe(401);
    expect((await health('not-a-token')).status).toBe(401);
    const forged = await signToken({ userId: '1', organizationId: 501, role: 'operator' }, 'another-secret-0123456789abcdef01234');
    expect((await health(forged)).status).toBe(401);
  });
});
