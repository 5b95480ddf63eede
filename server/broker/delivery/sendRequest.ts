import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Header } from '../messages/messageModel.ts';
import { toHeaderRecord } from '../publish/headerMap.ts';

/** Response bodies beyond this are cut: they only feed the DLQ entry and callbacks. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

export interface OutgoingRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Resolves (and may refuse) the host on a fresh connection, never a pooled one: callbacks' address check. */
  lookup?: LookupFunction | undefined;
}

export interface IncomingResponse {
  status: number;
  header: Header;
  body: Buffer;
}

/**
 * One HTTP call with a hard deadline covering the whole exchange. Rejects on network errors,
 * timeouts (`timed out after …`) and aborts; never on a status code.
 *
 * A kept-alive socket can be closed by the destination just as it is reused; the request then
 * fails before any response. That is not the destination failing, so it is sent once more on a
 * new socket (Node's documented `reusedSocket` pattern) instead of costing an attempt and a
 * retry delay. Delivery is at least once either way.
 *
 * Redirects are never followed: a 3xx is the attempt's answer, so a destination or callback
 * cannot bounce the broker to another (internal) address.
 */
export async function sendRequest(request: OutgoingRequest): Promise<IncomingResponse> {
  try {
    return await sendOnce(request);
  } catch (error) {
    if (!(error instanceof StaleSocketError)) throw error;
    return sendOnce(request);
  }
}

/** The request failed on a reused keep-alive socket before any response arrived. */
class StaleSocketError extends Error {}

const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

function sendOnce(request: OutgoingRequest): Promise<IncomingResponse> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      reject(new Error('invalid url'));
      return;
    }
    const transport = url.protocol === 'https:' ? https : http;
    // A guarded request gets its own socket: a pooled one may have been resolved without the guard.
    const connection = request.lookup ? { agent: false as const, lookup: request.lookup } : { agent: agents[url.protocol === 'https:' ? 'https:' : 'http:'] };
    const headers = { ...request.headers, 'Content-Length': String(request.body.length) };
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const req = transport.request(url, { method: request.method, headers, ...connection }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_RESPONSE_BYTES) chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - size));
        size += chunk.length;
      });
      res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, header: toHeaderRecord(res.headers), body: Buffer.concat(chunks) })));
      res.on('error', (error) => finish(() => reject(error)));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(() => reject(new Error(`timed out after ${request.timeoutMs}ms`)));
    }, request.timeoutMs);
    const onAbort = () => {
      req.destroy();
      finish(() => reject(new Error('aborted')));
    };
    let responded = false;
    req.on('response', () => (responded = true));
    // Listen for errors before anything can destroy the request: a destroyed request emits
    // 'error' on a later tick, and with no listener that is an uncaught exception.
    req.on('error', (error: NodeJS.ErrnoException) => {
      const stale = req.reusedSocket && !responded && STALE_SOCKET_CODES.has(error.code ?? '');
      finish(() => reject(stale ? new StaleSocketError(error.message, { cause: error }) : error));
    });
    if (request.signal?.aborted) return onAbort();
    request.signal?.addEventListener('abort', onAbort);
    req.end(request.body);
  });
}
