// A TCP proxy in front of PostgreSQL that counts what clients send (the frontend protocol), so
// statements can be counted the same way for every system, whatever its driver, without touching
// its code or the server's logging. Used only in the counting pass: it costs a hop and some CPU.
import net from 'node:net';

export interface WireCounts {
  /** Statements run: extended-protocol Executes plus simple-protocol Queries (BEGIN and COMMIT included). */
  statements: number;
  /** Parse messages: statements planned from text (a prepared statement reused sends none). */
  parses: number;
  /** Sync and Query messages: each ends a pipeline the client then waits on (an upper bound on round trips). */
  syncs: number;
}

export interface StatementProxy {
  readonly port: number;
  counts(): WireCounts;
  close(): Promise<void>;
}

// Untyped messages a client may send before its startup message: SSLRequest, GSSENCRequest, CancelRequest.
const PRE_STARTUP_CODES = new Set([80877103, 80877104, 80877102]);

export async function startStatementProxy(target: { host: string; port: number }): Promise<StatementProxy> {
  const counts: WireCounts = { statements: 0, parses: 0, syncs: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let pending: Buffer = Buffer.alloc(0);
    let startup = true; // the first messages carry no type byte
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      for (;;) {
        if (startup) {
          if (pending.length - at < 8) break;
          const length = pending.readInt32BE(at);
          if (pending.length - at < length) break;
          startup = PRE_STARTUP_CODES.has(pending.readInt32BE(at + 4)); // after SSLRequest comes the real startup
          at += length;
          continue;
        }
        if (pending.length - at < 5) break;
        const length = pending.readInt32BE(at + 1);
        if (pending.length - at < length + 1) break;
        const type = String.fromCharCode(pending[at]!); // at < pending.length: checked just above
        if (type === 'E' || type === 'Q') counts.statements++;
        if (type === 'P') counts.parses++;
        if (type === 'S' || type === 'Q') counts.syncs++;
        at += length + 1;
      }
      pending = pending.subarray(at);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port, // a TCP server's address is an AddressInfo
    counts: () => ({ ...counts }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
