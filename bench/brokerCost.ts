/**
 * What one message costs the embedded broker (not a test):
 *   npx tsx bench/brokerCost.ts [--postgres URL] [--messages N] [--concurrency C] [--batch B]
 *
 * The broker runs in this process on a scratch PostgreSQL database, through an executor that
 * counts statements and write transactions (a statement that inserts, updates or deletes, alone or
 * inside a transaction block); the load (the official @upstash/qstash Client and the destination)
 * runs in a child process, so `process.cpuUsage()` here is the broker's CPU. The server-wide xid
 * counter (`pg_snapshot_xmax`) is read too: an upper bound, since other clients of the same server
 * also consume xids. Phases:
 *   accept/publish  N single publishes, C in flight, delayed an hour (nothing is delivered)
 *   accept/batch    N messages in /v2/batch calls of B (batchJSON), delayed an hour
 *   e2e/publish     N single publishes, C in flight, each delivered (200) before the phase ends
 *   e2e/batch       N messages in batches of B, each delivered
 *   idle            2 s with nothing to do
 * Delivery cost = e2e − accept of the same kind.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Client } from '@upstash/qstash';
import postgres from 'postgres';
import { createExecutor } from '../server/broker/db/executor.ts';
import { startBroker } from '../server/broker/startBroker.ts';
import { QSTASH_DEV_TOKEN } from '../server/env.ts';
import { countingExecutor } from '../test/broker/support/countingExecutor.ts';
import { createScratchDatabase } from './scratchDatabase.ts';

const { values } = parseArgs({
  options: {
    postgres: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    messages: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    batch: { type: 'string', default: '50' },
    'broker-url': { type: 'string' },
  },
});
const N = Number(values.messages);
const C = Number(values.concurrency);
const B = Number(values.batch);

type Phase = 'accept/publish' | 'accept/batch' | 'e2e/publish' | 'e2e/batch';

if (values['broker-url']) await runLoad(values['broker-url']);
else await runBroker();

/** The child: client and destination; runs a phase when told and answers when it is done. */
async function runLoad(brokerUrl: string): Promise<void> {
  let delivered = 0;
  let onDelivery = () => {};
  const destination = http.createServer((req, res) => {
    req.resume().on('end', () => {
      res.writeHead(200).end('ok');
      delivered++;
      onDelivery();
    });
  });
  await new Promise<void>((r) => destination.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(destination.address() as AddressInfo).port}/bench`;
  const client = new Client({ baseUrl: brokerUrl, token: QSTASH_DEV_TOKEN, retry: false, enableTelemetry: false });
  const body = { type: 'send-email', payload: { to: 'ada@example.com', template: 'welcome' } };
  const run = async (phase: Phase) => {
    const delay = phase.startsWith('accept') ? 3600 : undefined;
    const target = delivered + N;
    const allDelivered = new Promise<void>((resolve) => {
      onDelivery = () => delivered >= target && resolve();
    });
    if (phase.endsWith('publish')) {
      let next = 0;
      await Promise.all(
        Array.from({ length: C }, async () => {
          while (next++ < N) await client.publishJSON({ url, body, delay });
        }),
      );
    } else {
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.max(1, Math.floor(C / B)) }, async () => {
          while ((next += B) <= N) await client.batchJSON(Array.from({ length: B }, () => ({ url, body, delay })));
        }),
      );
    }
    if (!delay) await allDelivered;
  };
  process.on('message', (message: { phase: Phase } | 'exit') => {
    if (message === 'exit') {
      destination.close();
      process.disconnect();
      return;
    }
    void run(message.phase).then(() => process.send?.('done'));
  });
  process.send?.('ready');
}

async function runBroker(): Promise<void> {
  const scratch = await createScratchDatabase(values.postgres, 'qstash_cost');
  const admin = postgres(values.postgres, { max: 1, onnotice: () => {} });
  const { executor, counts } = countingExecutor(createExecutor({ url: scratch.url }));
  const broker = await startBroker({ port: 0, storage: { executor }, maxConcurrentDeliveries: 64 });
  const child: ChildProcess = fork(import.meta.filename, ['--broker-url', broker.url, '--messages', String(N), '--concurrency', String(C), '--batch', String(B)]);
  const next = () => new Promise<unknown>((resolve) => child.once('message', resolve));
  await next(); // ready
  const xid = async () => Number((await admin.unsafe<{ x: string }[]>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x'))[0]?.x);
  const measure = async (label: string, work: () => Promise<unknown>) => {
    const before = { ...counts, cpu: process.cpuUsage(), xid: await xid(), at: performance.now() };
    await work();
    const cpu = process.cpuUsage(before.cpu);
    return {
      label,
      statements: (counts.statements - before.statements) / N,
      writeTransactions: (counts.writeTransactions - before.writeTransactions) / N,
      xids: (await xid()) - before.xid,
      cpuUs: (cpu.user + cpu.system) / N,
      seconds: (performance.now() - before.at) / 1000,
    };
  };
  const phase = (p: Phase) => measure(p, async () => {
    child.send({ phase: p });
    await next();
  });
  const cancelAll = () => new Client({ baseUrl: broker.url, token: QSTASH_DEV_TOKEN, retry: false }).messages.deleteAll();

  await phase('e2e/publish'); // warm-up: connections, prepared statements, JIT
  const results = [];
  for (const p of ['accept/publish', 'accept/batch', 'e2e/publish', 'e2e/batch'] as const) {
    results.push(await phase(p));
    await cancelAll();
  }
  const idle = await measure('idle 2 s', () => new Promise((r) => setTimeout(r, 2000)));
  child.send('exit');
  await broker.stop();
  await admin.end();
  await scratch.drop();

  const f = (n: number, d = 2) => n.toFixed(d);
  const rows = results.map((r) => `| ${r.label} | ${f(r.statements)} | ${f(r.writeTransactions)} | ${f(r.xids / N)} | ${f(r.cpuUs, 0)} | ${f(N / r.seconds, 0)} |`);
  const [ap, ab, ep, eb] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0], (typeof results)[0]];
  const delivery = (e: typeof ep, a: typeof ap, label: string) =>
    `| ${label} | ${f(e.statements - a.statements)} | ${f(e.writeTransactions - a.writeTransactions)} | ${f((e.xids - a.xids) / N)} | ${f(e.cpuUs - a.cpuUs, 0)} | |`;
  process.stdout.write(
    [
      `broker cost per message, PostgreSQL, ${N} messages, ${C} concurrent publishers, batches of ${B}`,
      '| phase | statements | write tx | xids (server-wide) | broker CPU µs | msg/s |',
      '|---|---|---|---|---|---|',
      ...rows,
      delivery(ep, ap, 'delivery (e2e − accept, publish)'),
      delivery(eb, ab, 'delivery (e2e − accept, batch)'),
      `idle 2 s: ${idle.statements * N} statements, ${idle.writeTransactions * N} write transactions, ${f((idle.cpuUs * N) / 1000, 1)} ms CPU`,
      '',
    ].join('\n'),
  );
}
