import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sendRequest } from '../../server/broker/delivery/sendRequest.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A destination that answers 200, except that `drop(socket, n)` may cut the n-th request of a socket. */
async function destination(drop: (requestOnSocket: number) => boolean) {
  const perSocket = new Map<Socket, number>();
  const seen = { requests: 0, sockets: 0 };
  server = createServer((req, res) => {
    seen.requests++;
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    if (n === 1) seen.sockets++;
    perSocket.set(req.socket, n);
    if (drop(n)) return void req.socket.destroy(); // closed as it is reused, before any response
    req.resume().on('end', () => res.end('ok'));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`; // a TCP listener's address
  const send = () => sendRequest({ url, method: 'POST', headers: {}, body: Buffer.from('x'), timeoutMs: 5_000 });
  return { seen, send };
}

describe('sendRequest', () => {
  it('sends again on a new socket when a kept-alive socket is closed as it is reused', async () => {
    const d = await destination((n) => n === 2);
    expect((await d.send()).status).toBe(200);
    expect((await d.send()).status).toBe(200); // the reused socket is cut; the retry gets a fresh one
    expect(d.seen).toEqual({ requests: 3, sockets: 2 });
  });

  it('does not resend when a fresh socket fails: that is the destination failing', async () => {
    const d = await destination(() => true);
    await expect(d.send()).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(d.seen.requests).toBe(1);
  });
});

describe('sendRequest and cancellation', () => {
  it('rejects with "aborted" when its signal is already aborted, and raises no uncaught socket error', async () => {
    const d = await destination(() => false);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const url = `http://127.0.0.1:${(server!.address() as AddressInfo).port}/hook`;
      const request = sendRequest({ url, method: 'POST', headers: {}, body: Buffer.from('x'), timeoutMs: 5_000, signal: AbortSignal.abort() });
      await expect(request).rejects.toThrow('aborted');
      await new Promise((resolve) => setTimeout(resolve, 50)); // the destroyed request's error is emitted on a later tick
      expect(uncaught).toEqual([]);
      expect(d.seen.requests).toBe(0);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
