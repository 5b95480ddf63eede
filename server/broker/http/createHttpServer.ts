import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { BrokerContext } from '../brokerContext.ts';
import { BrokerError } from '../errors.ts';
import { toHeaderMap } from '../publish/headerMap.ts';
import { matchRoute } from './matchRoute.ts';
import type { BrokerResponse, Route } from './types.ts';

/** The node:http server: auth, body limits, routing, and an error boundary around every handler. */
export function createHttpServer(ctx: BrokerContext, routes: readonly Route[], track: (p: Promise<unknown>) => void): http.Server {
  const server = http.createServer((req, res) => {
    track(handle(ctx, routes, req, res));
  });
  server.on('clientError', (_error, socket) => {
    // Malformed requests and oversized headers: answer if possible, never crash.
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

async function handle(ctx: BrokerContext, routes: readonly Route[], req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const rawUrl = req.url ?? '/';
  try {
    if (!authorized(ctx.token, req.headers.authorization)) throw new BrokerError(401, 'Unauthorized');
    const { match, allowed } = matchRoute(routes, method, rawUrl);
    if (!match) throw allowed.length > 0 ? new BrokerError(405, `method ${method} not allowed`) : new BrokerError(404, 'not found');
    const limit = ctx.maxBodyBytes * (match.route.bodyLimitFactor ?? 1);
    const body = await readBody(req, limit);
    const queryAt = rawUrl.indexOf('?');
    const response = await match.route.handler(ctx, {
      method,
      rawUrl,
      query: new URLSearchParams(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1)),
      headers: toHeaderMap(req.headers),
      body,
      callerIp: req.socket.remoteAddress?.replace(/^::ffff:/, ''),
      params: match.params,
      rest: match.rest,
    });
    send(res, response);
  } catch (error) {
    if (error instanceof BrokerError) {
      if (error.status === 413) res.setHeader('Connection', 'close');
      send(res, { status: error.status, json: { error: error.message } });
      return;
    }
    ctx.logger.error({ err: error, method, path: rawUrl.split('?')[0] }, '[broker] Request failed');
    send(res, { status: 500, json: { error: 'internal server error' } });
  }
}

function authorized(token: string, header: string | undefined): boolean {
  const given = Buffer.from(/^Bearer (.*)$/i.exec(header ?? '')?.[1]?.trim() ?? '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new BrokerError(413, `request body too large: max ${limit} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BrokerError(413, `request body too large: max ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, response: BrokerResponse): void {
  if (res.headersSent || res.destroyed) return;
  if (response.json === undefined) {
    res.writeHead(response.status).end();
    return;
  }
  const text = JSON.stringify(response.json);
  res.writeHead(response.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}
