/**
 * Group A (bad input): every procedure's schema refuses oversized, malformed and smuggled input
 * with BAD_REQUEST and changes nothing; body, batch and payload limits answer 413 / 400; malformed
 * requests get a clear 4xx without internals.
 */
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobExecutions, jobSchedules } from '../../server/db/schema.ts';
import { MAX_BATCH_SIZE, MAX_PAYLOAD_BYTES } from '../../shared/jobApi.ts';
import { MAX_BODY_BYTES } from '../../server/trpc/trpcMiddleware.ts';
import { callProcedure, startSecurityServer, type SecurityServer } from './support/securityServer.ts';
import { HTTP_ROUTES, MEMBER_ENQUEUE, PROCEDURES, UNKNOWN_JOB_ID } from './support/surface.ts';

let t: SecurityServer;
let trpc: string;
let admin: string;
beforeAll(async () => {
  t = await startSecurityServer();
  trpc = `${t.server.url}/trpc`;
  admin = await t.token({ organizationId: 50, role: 'admin' });
});
afterAll(async () => t?.stopAndScan());

const rowCounts = async () => {
  const { db } = t.server.database;
  const [jobs] = await db.select({ n: count() }).from(jobExecutions);
  const [schedules] = await db.select({ n: count() }).from(jobSchedules);
  return [jobs?.n, schedules?.n];
};

const invalidCases = Object.entries(PROCEDURES).flatMap(([path, p]) => p.invalid.map(([name, input]) => [path, name, p.type, input] as const));

describe('schemas', () => {
  it.each(invalidCases)('%s refuses %s: BAD_REQUEST / VALIDATION_ERROR, nothing stored', async (path, _name, type, input) => {
    const before = await rowCounts();
    const result = await callProcedure(trpc, { path, type, input, token: admin });
    expect(result.error?.data).toMatchObject({ code: 'BAD_REQUEST', jobwireCode: 'VALIDATION_ERROR' });
    expect(result.error?.data.stack).toBeUndefined();
    if (type !== 'subscription') expect(result.status).toBe(400);
    expect(await rowCounts()).toEqual(before);
  });

  it('caps the payload by its bytes: 60 KB passes the schema, 64 KB + 1 does not', async () => {
    const webhook = (size: number) => ({ type: 'process-webhook', payload: { source: 'test', event: 'big', data: { blob: 'x'.repeat(size) } }, options: { delay: 3_600_000 } });
    const sizeIssue = async (size: number) => {
      const result = await callProcedure(trpc, { path: 'jobs.enqueue', type: 'mutation', input: webhook(size), token: admin });
      return JSON.stringify(result.error?.data.zodError ?? null).includes(`at most ${MAX_PAYLOAD_BYTES} bytes`);
    };
    expect(await sizeIssue(60_000)).toBe(false);
    expect(await sizeIssue(MAX_PAYLOAD_BYTES)).toBe(true);
  });
});

describe('request limits', () => {
  it(`answers 413 to a tRPC body over ${MAX_BODY_BYTES} bytes`, async () => {
    const body = JSON.stringify({ json: { ...MEMBER_ENQUEUE, payload: { entityType: 'x'.repeat(MAX_BODY_BYTES), format: 'csv' } } });
    const res = await fetch(`${trpc}/jobs.enqueue`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, body });
    expect(res.status).toBe(413);
  });

  it(`runs a batch of ${MAX_BATCH_SIZE} calls and refuses ${MAX_BATCH_SIZE + 1}`, async () => {
    const batch = (n: number) => {
      const paths = Array.from({ length: n }, () => 'jobs.list').join(',');
      const input = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, { json: { limit: 1 } }]));
      return fetch(`${trpc}/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { authorization: `Bearer ${admin}` } });
    };
    expect((await batch(MAX_BATCH_SIZE)).status).toBe(200);
    expect((await batch(MAX_BATCH_SIZE + 1)).status).toBe(400);
  });

  const limited = HTTP_ROUTES.filter((r) => r.bodyLimitBytes !== undefined);
  it.each(limited)('$method $path answers 413 beyond its body limit, whatever the Content-Type says', async (route) => {
    const limit = route.bodyLimitBytes!; // filtered above
    const big = 'x'.repeat(limit + 1);
    for (const type of ['application/json', 'text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded', undefined]) {
      const res = await fetch(`${t.server.url}${route.path}`, { method: route.method, headers: type ? { 'content-type': type } : {}, body: big });
      if (route.jsonOnly && type !== 'application/json') {
        expect(res.status, String(type)).toBe(415); // refused without reading the body
        continue;
      }
      expect(res.status, String(type)).toBe(413);
      expect(await res.json()).toEqual({ error: 'request body too large' });
    }
    // Chunked, without Content-Length: the limit counts bytes as they arrive.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode('y'.repeat(Math.ceil(limit / 3))));
        controller.close();
      },
    });
    const chunked = await fetch(`${t.server.url}${route.path}`, { method: route.method, headers: { 'content-type': 'application/json' }, body: chunks, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it.each(limited)('$method $path reads a body at its limit (then judges the signature)', async (route) => {
    const res = await fetch(`${t.server.url}${route.path}`, { method: route.method, headers: { 'content-type': 'application/json' }, body: 'x'.repeat(route.bodyLimitBytes!) });
    expect(res.status).toBe(route.unsignedStatus);
  });
});

describe('malformed requests', () => {
  const post = (path: string, body: string) => fetch(`${trpc}/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, body });

  it('answers broken JSON, unknown procedures and wrong methods with a 4xx and no internals', async () => {
    const responses = [
      await post('jobs.enqueue', '{"json": {"type": '),
      await post('jobs.nope', '{}'),
      await post('jobs.get', JSON.stringify({ json: { jobId: UNKNOWN_JOB_ID } })),
      await fetch(`${trpc}/jobs.enqueue?input=${encodeURIComponent('{"json":{}}')}`, { headers: { authorization: `Bearer ${admin}` } }),
      await fetch(`${trpc}/jobs.get?input=%7B%7B%7B`, { headers: { authorization: `Bearer ${admin}` } }),
    ];
    for (const res of responses) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const text = await res.text();
      expect(text).not.toMatch(/"stack"|node_modules|\.ts:\d+|at [A-Za-z.]+ \(/);
    }
  });

  it('survives pathologically deep JSON with a 4xx', async () => {
    const depth = 200_000;
    const body = `{"json":{"type":"export-data","payload":{"entityType":"x","format":"csv","filters":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}}}`;
    const res = await post('jobs.enqueue', body);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect((await fetch(`${t.server.url}/healthz`)).status).toBe(200);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await fetch(`${t.server.url}/api/jobs/../../etc/passwd`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not found' });
  });
});
