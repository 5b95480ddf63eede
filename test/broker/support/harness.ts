import { Client, Receiver } from '@upstash/qstash';
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY, QSTASH_DEV_TOKEN } from '../../../server/env.ts';
import { startBroker, type Broker, type BrokerOptions } from '../../../server/broker/startBroker.ts';
import { createTestDatabaseTarget, type TestDatabaseTarget } from '../../support/testDatabase.ts';
import { startDestination, type Destination, type RecordedRequest } from './destination.ts';

export const TOKEN = QSTASH_DEV_TOKEN;
export const receiver = new Receiver({ currentSigningKey: QSTASH_DEV_CURRENT_SIGNING_KEY, nextSigningKey: QSTASH_DEV_NEXT_SIGNING_KEY });

export interface Harness {
  broker: Broker;
  client: Client;
  destination: Destination;
  target: TestDatabaseTarget;
  storage: BrokerOptions['storage'];
  /** Stops the broker and starts a new one on the same storage (restart durability). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** One broker on its own fresh database plus a recording destination, for one test file. */
export async function startHarness(overrides: Partial<BrokerOptions> = {}): Promise<Harness> {
  const target = await createTestDatabaseTarget();
  // pglite: a second start reuses the same instance; postgres: the same URL.
  const storage: BrokerOptions['storage'] = target.pglite ? { pglite: target.pglite } : { url: target.url as string };
  const destination = await startDestination();
  const start = () => startBroker({ port: 0, storage, ...overrides });
  const harness: Harness = {
    broker: await start(),
    client: undefined as unknown as Client, // set right below
    destination,
    target,
    storage,
    async restart() {
      await harness.broker.stop();
      harness.broker = await start();
      harness.client = makeClient(harness.broker);
    },
    async close() {
      await harness.broker.stop();
      await destination.close();
      await target.drop();
    },
  };
  harness.client = makeClient(harness.broker);
  return harness;
}

function makeClient(broker: Broker): Client {
  return new Client({ baseUrl: broker.url, token: TOKEN, retry: false, enableTelemetry: false });
}

/** Verifies a delivery's signature with the official Receiver, binding body and URL. */
export async function verifyDelivery(req: RecordedRequest): Promise<true> {
  const signature = req.headers['upstash-signature'];
  if (typeof signature !== 'string') throw new Error('delivery has no Upstash-Signature header');
  return (await receiver.verify({ signature, body: req.body.toString('utf8'), url: req.url })) as true;
}
