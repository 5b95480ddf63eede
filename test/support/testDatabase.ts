import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createPglite } from '../../server/db/database.ts';
import type { PGlite } from '@electric-sql/pglite';

/** Which database this vitest project runs against (vitest.config.ts sets it per project). */
export const TEST_DRIVER: 'pglite' | 'postgres' = process.env.JOBWIRE_TEST_DB === 'postgres' ? 'postgres' : 'pglite';

/** The local server CI and developers have (DEVELOPERS.md); override with TEST_POSTGRES_URL. */
const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabaseTarget {
  driver: 'pglite' | 'postgres';
  /** Set for postgres: a fresh database of this test file's own. */
  url?: string;
  /** Set for pglite: a fresh in-memory instance of this test file's own. */
  pglite?: PGlite;
  drop(): Promise<void>;
}

/** A fresh, empty database for one test file, so files can run in parallel. */
export async function createTestDatabaseTarget(driver = TEST_DRIVER): Promise<TestDatabaseTarget> {
  if (driver === 'pglite') {
    const pglite = await createPglite();
    return { driver, pglite, drop: async () => { if (!pglite.closed) await pglite.close(); } };
  }
  const name = `jobwire_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    driver,
    url: url.toString(),
    async drop() {
      const a = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
