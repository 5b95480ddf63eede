import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  /** The full URL called, as the signature's `sub` should state it. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  receivedAt: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering (for concurrency and timeout tests). */
  delayMs?: number;
}

export type Responder = (req: RecordedRequest, nth: number) => Reply | undefined;

/** A real local HTTP endpoint that records every request and answers as told, per path. */
export interface Destination {
  readonly base: string;
  readonly requests: RecordedRequest[];
  url(path: string): string;
  on(path: string, responder: Responder): void;
  received(path: string): RecordedRequest[];
  /** Highest number of requests in progress at once for a path. */
  maxConcurrency(path: string): number;
  close(): Promise<void>;
}

export async function startDestination(): Promise<Destination> {
  const requests: RecordedRequest[] = [];
  const responders = new Map<string, Responder>();
  const active = new Map<string, number>();
  const peak = new Map<string, number>();
  const pathOf = (raw: string) => raw.split('?')[0] ?? raw;
  let base = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const key = pathOf(path);
      const record: RecordedRequest = { method: req.method ?? '', path, url: base + path, headers: req.headers, body: Buffer.concat(chunks), receivedAt: Date.now() };
      requests.push(record);
      const now = (active.get(key) ?? 0) + 1;
      active.set(key, now);
      peak.set(key, Math.max(peak.get(key) ?? 0, now));
      const nth = requests.filter((r) => pathOf(r.path) === key).length - 1;
      const reply = responders.get(key)?.(record, nth) ?? {};
      setTimeout(() => {
        active.set(key, (active.get(key) ?? 1) - 1);
        if (res.destroyed) return;
        res.writeHead(reply.status ?? 200, reply.headers ?? {}).end(reply.body ?? 'ok');
      }, reply.delayMs ?? 0);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests,
    url: (path) => base + path,
    on: (path, responder) => void responders.set(path, responder),
    received: (path) => requests.filter((r) => pathOf(r.path) === path),
    maxConcurrency: (path) => peak.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
