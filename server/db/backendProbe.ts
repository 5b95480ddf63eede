import net from 'node:net';
import postgres from 'postgres';

/**
 * Calls `onPid` with the backend pid the server announces in its start-up reply (BackendKeyData),
 * read off the socket beside the driver. Nothing is called when the reply is not plain protocol
 * (TLS) or fails.
 */
export function watchBackendPid(socket: net.Socket, onPid: (pid: number) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  const stop = () => socket.off('data', read);
  function read(chunk: Buffer) {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    while (buffered.length >= 5) {
      const type = buffered[0];
      const length = buffered.readInt32BE(1);
      if (length < 4 || length > 65_536) return stop(); // not the protocol we expect
      if (buffered.length < 1 + length) return;
      if (type === 0x4b && length === 12) {
        onPid(buffered.readInt32BE(5)); // 'K': pid, then the cancel key
        return stop();
      }
      if (type === 0x5a || type === 0x45) return stop(); // ReadyForQuery or an error: no key came
      buffered = buffered.subarray(1 + length);
    }
  }
  socket.on('data', read);
}

/**
 * Of `pids`, the backends that run no statement (idle, idle in transaction) or are gone, asked
 * over a fresh connection to `url`. Undefined when the server cannot tell: no answer within
 * `timeoutMs`, TLS, or a pooler in between (the pid a connection hears is not its backend's).
 */
export async function quietBackends(url: string, pids: number[], timeoutMs: number): Promise<Set<number> | undefined> {
  let ownPid: number | undefined;
  const sql = postgres(url, {
    max: 1,
    fetch_types: false,
    connect_timeout: Math.max(1, Math.ceil(timeoutMs / 1000)),
    onnotice: () => {},
    connection: { application_name: 'jobwire-stall-probe' },
    // The driver supports a socket factory; its typings do not list it.
    ...({
      socket: (options: { host: string[]; port: number[]; path?: string | false }) => {
        const socket = options.path ? net.connect(options.path) : net.connect(options.port[0] ?? 5432, options.host[0] ?? 'localhost');
        watchBackendPid(socket, (pid) => (ownPid = pid));
        return socket;
      },
    } as object),
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    const answer = sql<Array<{ me: number; quiet: string }>>`
      SELECT pg_backend_pid() AS me, array_to_string(ARRAY(
        SELECT p FROM unnest(string_to_array(${pids.join(',')}, ',')::int[]) AS p
        WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = p AND (a.state IS NULL OR a.state NOT IN ('idle', 'idle in transaction', 'idle in transaction (aborted)')))
      ), ',') AS quiet`.then(([row]) => row);
    const row = await Promise.race([answer.catch(() => undefined), timeout]);
    if (!row || row.me !== ownPid) return undefined;
    return new Set(row.quiet ? row.quiet.split(',').map(Number) : []);
  } finally {
    clearTimeout(timer);
    await sql.end({ timeout: 0 }).catch(() => undefined);
  }
}
