import net from 'node:net';
import { quietBackends, watchBackendPid } from './backendProbe.ts';

export interface StallGuardOptions {
  /**
   * The server's URL. A connection that waited `suspectMs` for an answer is then checked over a
   * fresh connection (pg_stat_activity) and cut at once if its backend runs no statement: the
   * answer is not coming. Absent: only `stallMs` cuts. Default none.
   */
  probeUrl?: string | undefined;
  /** Default the smaller of 2 s and half of `stallMs`. */
  suspectMs?: number;
}

interface Guard {
  stallMs: number;
  suspectMs: number;
  probeUrl: string | undefined;
  probing: boolean;
}

interface Watched {
  socket: net.Socket;
  guard: Guard;
  /** The server it talks to: connections over one path go half-open together. */
  path: string;
  /** Its backend's pid, once the server announced it. */
  pid?: number;
  /** Since when it waits for an answer; 0 when it waits for none. */
  since: number;
  /** When it last heard from the server (or was opened). */
  heard: number;
  /** When its backend was last asked about. */
  probed: number;
}

/** Every guarded connection of the process, whichever pool (app, broker, LISTEN) holds it. */
const watched = new Set<Watched>();
let timer: NodeJS.Timeout | undefined;
let period = Infinity;

/**
 * A postgres.js `socket` factory whose connections are destroyed when they stall: something was
 * written and nothing came back for `stallMs`, or (with `probeUrl`) for `suspectMs` while the
 * server says the connection's backend runs no statement. TCP alone never notices a half-open
 * path (a proxy or NAT that stops forwarding but keeps the connection up acknowledges keep-alives
 * itself), so a query on such a connection would wait forever. Destroyed, the query rejects with
 * CONNECTION_STALLED and the pool reconnects. A statement that legitimately runs longer than
 * `stallMs` is cut too: keep `stallMs` above the longest one.
 *
 * A stall also cuts every connection to the same server that has heard nothing for half as long
 * as the stalled one waited: they most likely went half-open with it, and each idle one would
 * otherwise cost a stall of its own when next used (the app's pool, the broker's and the LISTEN
 * connection alike). A healthy idle connection cut this way costs a reconnect.
 */
export function stallGuardedSockets(stallMs: number, options: StallGuardOptions = {}) {
  const guard: Guard = { stallMs, suspectMs: options.suspectMs ?? Math.min(2_000, stallMs / 2), probeUrl: options.probeUrl, probing: false };
  return (connect: { host: string[]; port: number[]; path?: string | false; ssl?: unknown }): net.Socket => {
    const host = connect.host[0] ?? 'localhost';
    const port = connect.port[0] ?? 5432;
    const socket = connect.path ? net.connect(connect.path) : net.connect(port, host);
    const entry: Watched = { socket, guard, path: connect.path || `${host}:${port}`, since: 0, heard: Date.now(), probed: 0 };
    watched.add(entry);
    schedule(Math.min(stallMs, guard.probeUrl ? guard.suspectMs : Infinity));
    if (guard.probeUrl && !connect.ssl) watchBackendPid(socket, (pid) => (entry.pid = pid));
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((...args: unknown[]) => {
      if (entry.since === 0) entry.since = Date.now();
      return write(...args);
    }) as typeof socket.write;
    socket.on('data', () => {
      entry.since = 0;
      entry.heard = Date.now();
    });
    socket.on('close', () => watched.delete(entry));
    return socket;
  };
}

function schedule(waitMs: number) {
  const every = Math.max(100, Math.min(1_000, waitMs / 4));
  if (timer && every >= period) return;
  clearInterval(timer);
  period = every;
  timer = setInterval(check, every).unref();
}

function check() {
  const now = Date.now();
  const suspects = new Map<Guard, Watched[]>();
  for (const entry of watched) {
    if (entry.since === 0) continue;
    const { stallMs, suspectMs, probeUrl, probing } = entry.guard;
    if (now - entry.since > stallMs) stall(entry, `database connection stalled: no answer for ${stallMs} ms`);
    else if (probeUrl && !probing && entry.pid !== undefined && now - entry.since > suspectMs && now - entry.probed > suspectMs) {
      suspects.set(entry.guard, [...(suspects.get(entry.guard) ?? []), entry]);
    }
  }
  for (const [guard, entries] of suspects) void probe(guard, entries);
  if (watched.size === 0) {
    clearInterval(timer);
    timer = undefined;
    period = Infinity;
  }
}

/** Asks the server whether the backends of connections waiting for an answer run anything. */
async function probe(guard: Guard, entries: Watched[]) {
  guard.probing = true;
  const asked = entries.map((entry) => ({ entry, since: entry.since }));
  for (const entry of entries) entry.probed = Date.now();
  try {
    const quiet = await quietBackends(guard.probeUrl!, entries.map((e) => e.pid!), Math.max(1_000, guard.suspectMs)); // only entries with both are probed
    for (const { entry, since } of asked) {
      // Still waiting for the same answer while its backend runs nothing: the answer is lost.
      if (quiet?.has(entry.pid!) && watched.has(entry) && entry.since === since) {
        stall(entry, `database connection half-open: no answer for ${Date.now() - since} ms, and its backend runs no statement`);
      }
    }
  } finally {
    guard.probing = false;
  }
}

function stall(entry: Watched, message: string) {
  const now = Date.now();
  const waited = now - entry.since;
  cut(entry, message);
  for (const other of watched) {
    if (other.path === entry.path && now - other.heard >= waited / 2) cut(other, 'database connection silent while another to its server stalled');
  }
}

function cut(entry: Watched, message: string) {
  watched.delete(entry);
  entry.socket.destroy(Object.assign(new Error(message), { code: 'CONNECTION_STALLED' }));
}
