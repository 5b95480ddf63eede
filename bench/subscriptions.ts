// Live-status fan-out benchmark (not a test): N concurrent SSE subscribers of one organization's
// event stream on one server process; prints event delivery latency p50/p99 and the server's
// memory per subscriber. Clients run in a child process so their memory isn't counted.
//   node --expose-gc --import tsx bench/subscriptions.ts [--subscribers 1000] [--jobs 20] [--postgres URL]
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { createJobsClient } from '../client/createJobsClient.ts';
import { waitForJob } from '../client/waitForJob.ts';
import { benchToken, startBenchServer } from './benchServer.ts';
import { percentile } from './percentile.ts';

const { values } = parseArgs({ options: { subscribers: { type: 'string', default: '1000' }, jobs: { type: 'string', default: '20' }, postgres: { type: 'string' }, role: { type: 'string' }, url: { type: 'string' } } });

if (values.role === 'clients') await runClients(values.url!, Number(values.subscribers));
else await runServer();

async function runServer(): Promise<void> {
  const subscribers = Number(values.subscribers);
  // One member opens every stream: lift the per-user, per-organization and process caps.
  const server = await startBenchServer(values.postgres, { security: { subscriptionLimits: { perUser: null, perOrganization: null, global: null } } });
  const gc = (globalThis as { gc?: () => void }).gc;
  const memory = () => (gc?.(), process.memoryUsage());
  const before = memory();

  const clients = fork(new URL(import.meta.url).pathname, ['--role', 'clients', '--url', `${server.url}/trpc`, '--subscribers', String(subscribers)], {
    execArgv: ['--import', 'tsx'],
  });
  const fromClients = (type: string) => new Promise<Record<string, number>>((resolve) => clients.on('message', (m: { type: string }) => m.type === type && resolve(m as never)));
  await fromClients('ready');
  while (server.jobs.events.subscriberCount < subscribers) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  const attached = memory();

  const client = createJobsClient({ url: `${server.url}/trpc`, token: await benchToken({ userId: '1', organizationId: 1, role: 'admin' }) });
  const jobs = Number(values.jobs);
  const started = Date.now();
  for (let i = 0; i < jobs; i++) {
    const { jobId } = await client.jobs.enqueue.mutate({ type: 'send-email', payload: { to: `b${i}@example.com`, template: 'welcome', data: { recipientName: 'B' } } });
    await waitForJob(client, jobId, { transport: 'poll', interval: 20 });
  }
  clients.send({ type: 'report', expected: jobs * 3 });
  const report = await fromClients('report');
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  const perSubscriber = (key: 'rss' | 'heapUsed') => ((attached[key] - before[key]) / subscribers / 1024).toFixed(1);
  process.stdout.write(
    [
      `subscribers            ${subscribers} (jobs.onEvents, one organization; ${server.database.driver})`,
      `events                 ${jobs * 3} (${jobs} jobs × pending/processing/completed) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      `deliveries received    ${report.received} of ${jobs * 3 * subscribers}`,
      `delivery latency       p50 ${report.p50} ms   p99 ${report.p99} ms   max ${report.max} ms  (commit → client)`,
      `server memory          rss ${mb(before.rss)} → ${mb(attached.rss)} MB, heap ${mb(before.heapUsed)} → ${mb(attached.heapUsed)} MB`,
      `per subscriber         rss ${perSubscriber('rss')} KB, heap ${perSubscriber('heapUsed')} KB${gc ? '' : '  (run with --expose-gc for steadier numbers)'}`,
      '',
    ].join('\n'),
  );
  clients.kill();
  await server.stop();
  process.exit(0);
}

async function runClients(url: string, count: number): Promise<void> {
  const token = await benchToken({ userId: '2', organizationId: 1, role: 'member' });
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const client = createJobsClient({ url, token });
    client.jobs.onEvents.subscribe({}, { onData: ({ data }) => void latencies.push(Date.now() - data.at.getTime()) });
  }
  process.send!({ type: 'ready' }); // forked: the IPC channel exists
  process.on('message', async (m: { type: string; expected: number }) => {
    if (m.type !== 'report') return;
    const deadline = Date.now() + 30_000;
    while (latencies.length < m.expected * count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const sorted = [...latencies].sort((a, b) => a - b);
    process.send!({ type: 'report', received: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN });
  });
}
