/**
 * Security round 2, item 1: a ~2.5 KB superjson body whose `meta.referentialEqualities` turns the
 * payload into a DAG (each level's `r` aliased to its `l`: 2^depth paths) once froze the event loop
 * for seconds to minutes in the payload checks. Input may no longer create shared references: the
 * server drops the annotation (superjson's `json` already holds a full copy at every path).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import superjson from 'superjson';
import { inputTransformer } from '../../server/trpc/inputTransformer.ts';
import { startSecurityServer, type SecurityServer } from './support/securityServer.ts';

let t: SecurityServer;
beforeAll(async () => {
  t = await startSecurityServer();
});
afterAll(async () => t?.stopAndScan());

/** `{ l: { l: … , r: 0 }, r: 0 }` nested `depth` deep, with every `r` declared the same object as its `l`. */
function dagBody(depth: number) {
  let json: unknown = { leaf: 'x'.repeat(16) };
  for (let i = 0; i < depth; i++) json = { l: json, r: 0 };
  const equalities: Record<string, string[]> = {};
  let path = 'payload.filters.tree';
  for (let i = 0; i < depth; i++) {
    equalities[`${path}.l`] = [`${path}.r`];
    path = `${path}.l`;
  }
  return { json: { type: 'export-data', payload: { entityType: 'jobs', format: 'csv', filters: { tree: json } } }, meta: { referentialEqualities: equalities, v: 1 } };
}

/** Largest gap between answers to /healthz pinged every 20 ms while `work` runs. */
async function worstHealthGap(work: Promise<unknown>): Promise<number> {
  let done = false;
  let worst = 0;
  const pinger = (async () => {
    while (!done) {
      const start = performance.now();
      await fetch(`${t.server.url}/healthz`);
      worst = Math.max(worst, performance.now() - start);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await work.finally(() => (done = true));
  await pinger;
  return worst;
}

describe('shared references in tRPC input', () => {
  it('a DAG-shaped enqueue body is answered at once, and the event loop keeps answering /healthz', async () => {
    const token = await t.token({ organizationId: 71, role: 'member' });
    const body = JSON.stringify(dagBody(25));
    expect(body.length).toBeLessThan(4_000);
    let status = 0;
    const call = fetch(`${t.server.url}/trpc/jobs.enqueue`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body }).then(async (r) => {
      status = r.status;
      return r.text();
    });
    // Before the fix a depth of 25 blocked the loop for ~26 s; 2 s is a wide margin for a busy CI machine.
    expect(await worstHealthGap(call)).toBeLessThan(2_000);
    expect(status).toBeLessThan(500);
  });

  it('a batch of such calls is answered just as fast', async () => {
    const token = await t.token({ organizationId: 71, role: 'member' });
    const calls = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [String(i), dagBody(24)]));
    const call = fetch(`${t.server.url}/trpc/${Array(10).fill('jobs.enqueue').join(',')}?batch=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(calls),
    });
    expect(await worstHealthGap(call)).toBeLessThan(2_000);
  });

  it('legitimate shared references sent by the superjson client keep their values', async () => {
    const shared = { city: 'Paris', tags: ['a', 'b'] };
    const serialized = superjson.serialize({ data: { home: shared, work: shared } });
    expect(serialized.meta?.referentialEqualities).toBeDefined(); // the client really sends the annotation
    expect(inputTransformer.input.deserialize(serialized)).toEqual({ data: { home: shared, work: shared } });

    // Through the API: one Date object used twice is sent as a shared reference.
    const client = await t.client({ organizationId: 72, role: 'admin' });
    const { jobId } = await client.jobs.enqueue.mutate({ type: 'cleanup-old-data', payload: { retention: 30 }, options: { delay: 3_600_000 } });
    const day = new Date(Date.now() - 60_000);
    expect(superjson.serialize({ createdAfter: day, createdBefore: day }).meta?.referentialEqualities).toBeDefined();
    const page = await client.jobs.list.query({ createdAfter: day, createdBefore: new Date(Date.now() + 60_000) });
    expect(page.items.map((job) => job.jobId)).toContain(jobId);
    expect(await client.jobs.list.query({ createdAfter: day, createdBefore: day })).toEqual({ items: [], nextCursor: null });
  });
});
