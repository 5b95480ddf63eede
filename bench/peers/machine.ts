// What the peer benchmark reads from the machine: PostgreSQL's CPU time (from /proc), and a
// description of the machine for the report.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** /proc reports CPU times in USER_HZ, which Linux fixes at 100 for user space. */
const USER_HZ = 100;

/**
 * CPU time of every `postgres` process on this machine, in microseconds (tick resolution, 10 ms):
 * utime + stime of the live ones, plus cutime + cstime, which is where the postmaster keeps the
 * CPU of backends that exited, so connections closed during a measurement still count. Machine-wide:
 * other clients of the same server count too. null where /proc is not readable (not Linux).
 */
export function postgresCpuUs(): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  let ticks = 0;
  for (const pid of entries) {
    if (!/^[0-9]+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid …: comm may hold spaces, so split after its closing parenthesis.
    const close = stat.lastIndexOf(')');
    if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
    const fields = stat.slice(close + 2).split(' '); // fields[0] is the state (field 3)
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]); // utime stime cutime cstime
  }
  return (ticks / USER_HZ) * 1_000_000;
}

/** This process's CPU time (user + system), in microseconds. */
export function processCpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

export function describeMachine(postgresVersion: string): string[] {
  const cpus = os.cpus();
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return [
    `machine     ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}`,
    `node        ${process.version}; ${postgresVersion}`,
    `load avg    ${load} (1, 5, 15 min) at start`,
  ];
}
