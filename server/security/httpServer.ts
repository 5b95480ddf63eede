import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Limits of the HTTP server (`ServerConfig.httpLimits`); each has a default. */
export interface HttpLimits {
  /** Time to receive a request's headers, from its first byte; then 408 and the connection closes. Default 20 s. */
  headersTimeoutMs: number;
  /**
   * Time to receive a whole request, headers and body. Node stops counting once the request is
   * received, so a long response (an SSE subscription) is never cut. Default 60 s (bodies are ≤ 1 MiB).
   */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept. Default 65 s: longer than the usual 60 s of load balancers, so they never reuse a connection this server is closing. */
  keepAliveTimeoutMs: number;
  /** Open connections at most, SSE streams included; beyond it a new connection is closed at once. Default 10,000. */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 10_000,
};

export interface GatedServer {
  readonly server: Server;
  /** From now on requests reach `app`; before, each is answered 503 with `Retry-After`. */
  open(app: RequestListener): void;
  /** Starts listening; resolves with the port (the ephemeral one for port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Stops listening and cuts every connection (start-up failed). */
  close(): Promise<void>;
}

/**
 * The HTTP server with its limits, answering 503 + `Retry-After` until the app is attached: a
 * request that reaches the port while the server starts is refused at once, never left hanging.
 */
export function createGatedServer(limits: Partial<HttpLimits> = {}): GatedServer {
  const l = { ...DEFAULT_HTTP_LIMITS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) };
  let app: RequestListener | undefined;
  const server = createServer(
    {
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      // Node enforces both timeouts only when it checks, every 30 s by default: check often enough to keep them.
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(Math.min(l.headersTimeoutMs, l.requestTimeoutMs) / 4))),
    },
    (req, res) => {
      if (app) return app(req, res);
      res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1', Connection: 'close' });
      res.end(JSON.stringify({ status: 'starting' }));
    },
  );
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  server.maxConnections = l.maxConnections;
  return {
    server,
    open(handler) {
      app = handler;
    },
    listen: (port, host) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port); // a TCP listener always has an AddressInfo
        });
      }),
    close: () => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())),
  };
}
