/**
 * Broker benchmark (not a test): `npx tsx bench/broker.ts [--postgres URL] [--messages N] [--concurrency C] [--workflows W]`.
 * Starts the broker (PGlite in memory by default; with --postgres, a scratch database on that server),
 * a local destination, and drives it with the official @upstash/qstash Client; then runs W
 * three-step Upstash Workflow runs through `@upstash/workflow` (an Express endpoint and its Client).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { Client } from '@upstash/qstash';
import { Client as WorkflowClient } from '@upstash/workflow';
import { serve } from '@upstash/workflow/express';
import express from 'express';
import postgres from 'postgres';
import { startBroker, type BrokerOptions } from '../server/broker/startBroker.ts';
import { QSTASH_DEV_TOKEN } from '../server/env.ts';
import { percentile } from './percentile.ts';

const { values } = parseArgs({ options: { postgres: { type: 'string' }, messages: { type: 'string' }, concurrency: { type: 'string' }, workflows: { type: 'string' } } });
const N = Number(values.messages ?? 2000);
const W = Number(values.workflows ?? 100);
const CONCURRENCY = Number(values.concurrency ?? 32);

const delivered = new Map<string, number>();
let onDelivery: (() => void) | undefined;
const destination = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    delivered.set(String(req.headers['upstash-message-id']), performance.now());
    res.writeHead(200).end('ok');
    onDelivery?.();
  });
});
await new Promise<void>((r) => destination.listen(0, '127.0.0.1', r));
const target = `http://127.0.0.1:${(destination.address() as AddressInfo).port}/bench`;

const { storage, cleanup } = await openStorage(values.postgres);
const broker = await startBroker({ port: 0, storage, maxConcurrentDeliveries: 64 });
const client = new Client({ baseUrl: broker.url, token: QSTASH_DEV_TOKEN, retry: false, enableTelemetry: false });

function waitDelivered(ids: string[], timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${ids.filter((id) => delivered.has(id)).length}/${ids.length} delivered`)), timeoutMs);
    const check = () => {
      if (ids.every((id) => delivered.has(id))) {
        clearTimeout(timer);
        onDelivery = undefined;
        resolve();
      }
    };
    onDelivery = check;
    check();
  });
}

const fmt = (n: number) => n.toFixed(1);

// 1. Single publishes, C in flight at a time.
const sentAt = new Map<string, number>();
const singleIds: string[] = [];
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < N) {
      const i = next++;
      const start = performance.now();
      const { messageId } = await client.publish({ url: target, body: `{"i":${i}}`, headers: { 'Content-Type': 'application/json' } });
      sentAt.set(messageId, start);
      singleIds.push(messageId);
    }
  }),
);
const publishSeconds = (performance.now() - t0) / 1000;
await waitDelivered(singleIds);
const deliverSeconds = (Math.max(...singleIds.map((id) => delivered.get(id) ?? 0)) - t0) / 1000;
const loaded = singleIds.map((id) => (delivered.get(id) ?? 0) - (sentAt.get(id) ?? 0)).sort((a, b) => a - b);

// 2. Batches of 100.
const batchIds: string[] = [];
const t1 = performance.now();
for (let b = 0; b < N / 100; b++) {
  const results = await client.batchJSON(Array.from({ length: 100 }, (_v, i) => ({ url: target, body: { b, i } })));
  for (const r of results) batchIds.push((r as { messageId: string }).messageId);
}
const batchSeconds = (performance.now() - t1) / 1000;
await waitDelivered(batchIds);
const batchDeliverSeconds = (Math.max(...batchIds.map((id) => delivered.get(id) ?? 0)) - t1) / 1000;

// 3. Idle latency: one message at a time, publish → destination.
const idle: number[] = [];
for (let i = 0; i < 200; i++) {
  const start = performance.now();
  const { messageId } = await client.publish({ url: target, body: 'ping' });
  await waitDelivered([messageId]);
  idle.push((delivered.get(messageId) ?? 0) - start);
}
idle.sort((a, b) => a - b);

// 4. Workflow runs: three context.run steps each, W triggered at once.
const finished = new Map<string, number>();
const app = express();
app.use(express.json());
app.use(
  '/wf',
  serve<{ i: number }>(
    async (context) => {
      const a = await context.run('a', () => context.requestPayload.i + 1);
      const b = await context.run('b', () => a * 2);
      await context.run('c', () => finished.set(context.workflowRunId, performance.now() + b * 0));
    },
    { qstashClient: client, env: {} },
  ),
);
const appServer = http.createServer(app);
await new Promise<void>((r) => appServer.listen(0, '127.0.0.1', r));
const workflowUrl = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}/wf`;
const workflows = new WorkflowClient({ baseUrl: broker.url, token: QSTASH_DEV_TOKEN, retry: false, enableTelemetry: false });
const triggeredAt = new Map<string, number>();
const t2 = performance.now();
await Promise.all(
  Array.from({ length: W }, async (_v, i) => {
    const start = performance.now();
    const { workflowRunId } = await workflows.trigger({ url: workflowUrl, body: { i } });
    triggeredAt.set(workflowRunId, start);
  }),
);
const workflowDeadline = Date.now() + 120_000;
while (finished.size < W && Date.now() < workflowDeadline) await new Promise((r) => setTimeout(r, 20));
const workflowSeconds = (Math.max(...finished.values()) - t2) / 1000;
// Let the last runs report their end (DELETE /v2/workflows/runs/…) before the broker stops.
while (broker.pendingCount() > 0 && Date.now() < workflowDeadline) await new Promise((r) => setTimeout(r, 20));
await new Promise((r) => setTimeout(r, 200));
const runLatency = [...finished].map(([id, at]) => at - (triggeredAt.get(id) ?? at)).sort((a, b) => a - b);

process.stdout.write(`
broker benchmark (${values.postgres ? 'PostgreSQL' : 'PGlite in memory'}), ${N} messages, publish concurrency ${CONCURRENCY}
  single publish throughput      ${fmt(N / publishSeconds)} msg/s
  delivery throughput (single)   ${fmt(N / deliverSeconds)} msg/s (publish start → last delivery)
  batch publish throughput       ${fmt(N / batchSeconds)} msg/s (batches of 100)
  delivery throughput (batch)    ${fmt(N / batchDeliverSeconds)} msg/s
  latency under load  p50 / p99  ${fmt(percentile(loaded, 50))} / ${fmt(percentile(loaded, 99))} ms
  latency idle        p50 / p99  ${fmt(percentile(idle, 50))} / ${fmt(percentile(idle, 99))} ms (200 sequential)
  workflow runs                  ${finished.size}/${W} finished, ${fmt(W / workflowSeconds)} runs/s, ${fmt((W * 4) / workflowSeconds)} step deliveries/s
  workflow run latency p50 / p99 ${fmt(percentile(runLatency, 50))} / ${fmt(percentile(runLatency, 99))} ms (trigger → third step ran)
`);

await broker.stop();
await cleanup();
destination.close();
appServer.close();

async function openStorage(url: string | undefined): Promise<{ storage: BrokerOptions['storage']; cleanup: () => Promise<void> }> {
  if (!url) {
    const pglite = new PGlite();
    await pglite.waitReady;
    return { storage: { pglite }, cleanup: () => pglite.close() };
  }
  // A scratch database on the given server, so the benchmark never touches real data.
  const name = `qstash_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const scratch = new URL(url);
  scratch.pathname = `/${name}`;
  return {
    storage: { url: scratch.toString() },
    cleanup: async () => {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
