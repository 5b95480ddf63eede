import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client as QStashClient, Receiver } from '@upstash/qstash';
import { Client as WorkflowClient } from '@upstash/workflow';
import express, { type Express } from 'express';
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY, QSTASH_DEV_TOKEN } from '../../../server/env.ts';
import { startBroker, type Broker, type BrokerOptions } from '../../../server/broker/startBroker.ts';
import { createTestDatabaseTarget, type TestDatabaseTarget } from '../../support/testDatabase.ts';

export interface WorkflowHarness {
  broker: Broker;
  /** The official QStash client the workflow endpoints publish their steps with. */
  qstash: QStashClient;
  /** `@upstash/workflow`'s Client, pointed at the embedded broker. */
  workflows: WorkflowClient;
  receiver: Receiver;
  app: Express;
  /** Base URL of the local Express app, e.g. http://127.0.0.1:1234. */
  appUrl: string;
  /** Stops the broker and starts a new one on the same storage and port (both clients keep working). */
  restartBroker(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One embedded broker on this file's own database, plus a real Express app on port 0 where the test
 * mounts `@upstash/workflow/express` endpoints (mount them before the first request; routes added
 * later still work since Express matches at request time).
 */
export async function startWorkflowHarness(overrides: Partial<BrokerOptions> = {}): Promise<WorkflowHarness> {
  const target: TestDatabaseTarget = await createTestDatabaseTarget();
  const storage: BrokerOptions['storage'] = target.pglite ? { pglite: target.pglite } : { url: target.url as string };
  let broker = await startBroker({ port: 0, storage, ...overrides });
  const port = broker.port;
  // A restart closes kept-alive sockets under the clients; a short retry takes them over, as the SDK's default retry would.
  const retry = { retries: 3, backoff: () => 20 };
  const qstash = new QStashClient({ baseUrl: broker.url, token: QSTASH_DEV_TOKEN, retry, enableTelemetry: false });
  const workflows = new WorkflowClient({ baseUrl: broker.url, token: QSTASH_DEV_TOKEN, retry, enableTelemetry: false });
  const app = express();
  app.use(express.json({ limit: '5mb' }));
  app.use(express.text({ type: 'text/*' }));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const harness: WorkflowHarness = {
    broker,
    qstash,
    workflows,
    receiver: new Receiver({ currentSigningKey: QSTASH_DEV_CURRENT_SIGNING_KEY, nextSigningKey: QSTASH_DEV_NEXT_SIGNING_KEY }),
    app,
    appUrl,
    async restartBroker() {
      await broker.stop();
      broker = await startBroker({ port, storage, ...overrides });
      harness.broker = broker;
    },
    async close() {
      await broker.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await target.drop();
    },
  };
  return harness;
}
