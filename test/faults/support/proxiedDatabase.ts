import { createTestDatabaseTarget } from '../../support/testDatabase.ts';
import { startTcpProxy, type TcpProxy } from './tcpProxy.ts';

/** A PostgreSQL database of the test file's own, reached through a TCP proxy (`url`); `directUrl` bypasses it. */
export interface ProxiedDatabase {
  proxy: TcpProxy;
  url: string;
  directUrl: string;
  close(): Promise<void>;
}

export async function proxiedTestDatabase(): Promise<ProxiedDatabase> {
  const target = await createTestDatabaseTarget('postgres');
  const url = new URL(target.url!); // set for postgres
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  url.port = String(proxy.port);
  return {
    proxy,
    url: url.toString(),
    directUrl: target.url!,
    async close() {
      await proxy.close();
      await target.drop();
    },
  };
}
