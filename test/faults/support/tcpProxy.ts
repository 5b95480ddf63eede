import net from 'node:net';

/**
 * A TCP proxy in front of a server (PostgreSQL) that can fail the way networks do:
 * `down` refuses new connections and resets the open ones; `freeze` makes the open connections
 * half-open (they stay up but forward nothing either way, like a dead NAT entry) while new ones
 * pass; `forward` is normal.
 */
export interface TcpProxy {
  readonly port: number;
  /** When each connection was accepted (Date.now()), refused ones included. */
  readonly accepted: number[];
  mode(mode: 'forward' | 'down' | 'freeze'): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: 'forward' | 'down' | 'freeze' = 'forward';
  const open = new Set<{ client: net.Socket; upstream: net.Socket; frozen: boolean }>();
  const accepted: number[] = [];
  const server = net.createServer((client) => {
    accepted.push(Date.now());
    if (mode === 'down') return void client.resetAndDestroy();
    const upstream = net.connect(target.port, target.host);
    const pair = { client, upstream, frozen: false };
    open.add(pair);
    const pipe = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk) => {
        if (!pair.frozen) to.write(chunk);
      });
    pipe(client, upstream);
    pipe(upstream, client);
    const end = () => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port, // a TCP listener
    accepted,
    mode(next) {
      mode = next;
      for (const pair of open) {
        if (next === 'freeze') pair.frozen = true;
        if (next === 'down') {
          pair.client.resetAndDestroy();
          pair.upstream.destroy();
        }
      }
    },
    async close() {
      for (const pair of open) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
