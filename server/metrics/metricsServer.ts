import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DbOrTx } from '../db/database.ts';
import { createMetricsApp, type MetricsOptions } from '../http/metricsRoute.ts';

export interface MetricsServer {
  /** `http://host:port`; `/metrics` is the only route. */
  url: string;
  close(): Promise<void>;
}

/** Serves `/metrics` on its own port (`METRICS_PORT`; 0 picks a free one). */
export async function startMetricsServer(db: DbOrTx, options: MetricsOptions & { port: number }, host: string): Promise<MetricsServer> {
  const server = createServer(createMetricsApp(db, options));
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo; // listening on TCP
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
