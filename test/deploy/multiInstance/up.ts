// `scripts/multi-instance/up.sh`: starts the topology and keeps it up until Ctrl-C, for trying by hand.
import { signToken } from '../../../server/auth/token.ts';
import { startTopology } from './topology.ts';

const topology = await startTopology({ instances: Number(process.env.INSTANCES ?? 3), keepDir: true });
const token = await signToken({ userId: '1', organizationId: 1, role: 'admin' }, topology.authSecret);
process.stdout.write(`
jobwire behind HAProxy     ${topology.url}/trpc   (health: ${topology.url}/readyz)
instances                  ${topology.instances.map((i) => `${i.name} ${i.url}`).join(', ')}
broker (qstash:dev)        ${topology.brokerUrl}
database                   ${topology.databaseUrl}
logs, haproxy.cfg          ${topology.dir}
admin token                ${token}

Ctrl-C stops everything and drops the databases.
`);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void topology.stop().then(() => process.exit(0));
  });
}
