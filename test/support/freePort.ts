import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A TCP port free on 127.0.0.1, for a server that must be started (or restarted) on a known port.
 * It is taken below the kernel's ephemeral range (`ip_local_port_range`, 32768–60999 by default):
 * a port from `listen(0)` could be handed to another test's `listen(0)` or outgoing connection
 * between this probe and the server's own listen, or between a server's stop and its restart.
 */
export async function freePort(): Promise<number> {
  const [ephemeralFirst] = ephemeralRange();
  const low = 10_000;
  const high = Math.max(low + 1_000, ephemeralFirst);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found between ${low} and ${high}`);
}

function ephemeralRange(): [number, number] {
  try {
    const [first, last] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (first && last) return [first, last];
  } catch {
    // not Linux: the IANA range
  }
  return [49_152, 65_535];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
