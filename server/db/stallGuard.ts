import net from 'node:net';

/**
 * A postgres.js `socket` factory whose connections are destroyed when they stall: something was
 * written and nothing came back for `stallMs`. TCP alone never notices a half-open path (a proxy or
 * NAT that stops forwarding but keeps the connection up acknowledges keep-alives itself), so a
 * query on such a connection would wait forever. Destroyed, the query rejects with
 * CONNECTION_CLOSED and the pool reconnects. A statement that legitimately runs longer than
 * `stallMs` without answering is cut too: jobwire's statements are short; keep `stallMs` above
 * the longest one.
 */
export function stallGuardedSockets(stallMs: number) {
  const waiting = new Map<net.Socket, number>(); // socket → since when it waits for an answer
  let timer: NodeJS.Timeout | undefined;

  function check() {
    const now = Date.now();
    for (const [socket, since] of waiting) {
      if (since > 0 && now - since > stallMs) {
        waiting.delete(socket);
        socket.destroy(Object.assign(new Error(`database connection stalled: no answer for ${stallMs} ms`), { code: 'CONNECTION_STALLED' }));
      }
    }
    if (waiting.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  return (options: { host: string[]; port: number[]; path?: string | false }): net.Socket => {
    const socket = options.path ? net.connect(options.path) : net.connect(options.port[0] ?? 5432, options.host[0] ?? 'localhost');
    waiting.set(socket, 0);
    timer ??= setInterval(check, Math.max(100, Math.min(1_000, stallMs / 4))).unref();
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((...args: unknown[]) => {
      if (waiting.get(socket) === 0) waiting.set(socket, Date.now());
      return write(...args);
    }) as typeof socket.write;
    socket.on('data', () => waiting.has(socket) && waiting.set(socket, 0));
    socket.on('close', () => waiting.delete(socket));
    return socket;
  };
}
