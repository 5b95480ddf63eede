// Enqueue benchmark (not a test): `jobs.enqueue` over HTTP through the typed client, N calls with
// C in flight, on one server process; prints calls/s and latency p50/p99. Jobs are delayed by an
// hour so deliveries don't compete with the enqueues being measured.
//   npm run bench:enqueue -- [--calls 2000] [--concurrency 16] [--rate-limit 1000000/1s|off] [--postgres URL]
import { parseArgs } from 'node:util';
import { createJobsClient } from '../client/createJobsClient.ts';
import { parseRateLimit } from '../server/security/rateLimiter.ts';
import { benchToken, startBenchServer } from './benchServer.ts';
import { percentile } from './percentile.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    'rate-limit': { type: 'string', default: '1000000/1s' },
    postgres: { type: 'string' },
  },
});
const calls = Number(values.calls);
const concurrency = Number(values.concurrency);

const server = await startBenchServer(values.postgres, { security: { enqueueRateLimit: parseRateLimit(values['rate-limit']) }, defaultSchedules: false });
const client = createJobsClient({ url: `${server.url}/trpc`, token: await benchToken({ userId: '1', organizationId: 1, role: 'admin' }) });
const enqueue = (i: number) =>
  client.jobs.enqueue.mutate({ type: 'send-email', payload: { to: `b${i}@example.com`, template: 'welcome', data: { recipientName: 'B' } }, options: { delay: 3_600_000 } });

for (let i = 0; i < 50; i++) await enqueue(-i); // warm-up
const latencies: number[] = [];
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < calls) {
      const i = next++;
      const at = performance.now();
      await enqueue(i);
      latencies.push(performance.now() - at);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => percentile(latencies, p).toFixed(1);
process.stdout.write(
  [
    `driver        ${server.database.driver}; rate limit ${values['rate-limit']}`,
    `enqueues      ${calls} with ${concurrency} in flight in ${seconds.toFixed(1)} s: ${(calls / seconds).toFixed(0)}/s`,
    `latency       p50 ${pct(50)} ms  p99 ${pct(99)} ms`,
  ].join('\n') + '\n',
);
await server.stop();
