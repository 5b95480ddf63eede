// A scratch database for a benchmark, so real data is never touched: created on the server of
// `url`, dropped (with any connection still open) by `drop`.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createScratchDatabase(url: string, prefix = 'jobwire_bench'): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const scratch = new URL(url);
  scratch.pathname = `/${name}`;
  return {
    url: scratch.toString(),
    async drop() {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** With a server URL, a scratch database on it; without one (PGlite), nothing to create or drop. */
export async function scratchDatabase(url: string | undefined): Promise<{ url?: string; drop: () => Promise<void> }> {
  return url ? createScratchDatabase(url) : { drop: async () => {} };
}
