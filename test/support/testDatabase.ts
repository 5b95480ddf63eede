import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { PGlite } from '@electric-sql/pglite';

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
    const pglite = await freshPglite();
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

/**
 * A fresh, empty PGlite instance. Creating one runs PGlite's initdb, which costs seconds of CPU;
 * loading the data directory of a freshly initialised instance gives the same empty cluster in a
 * fraction of that. The pristine image is made once per PGlite version and cached in the temp
 * directory (written to a temporary name and renamed, so a concurrent worker never reads half of
 * it). It holds no jobwire schema: every test still runs the migrations itself.
 */
async function freshPglite(): Promise<PGlite> {
  const image = await pristineImage();
  const pglite = new PGlite({ loadDataDir: new Blob([image]) });
  await pglite.waitReady;
  return pglite;
}

let cachedImage: Promise<Uint8Array> | undefined;

function pristineImage(): Promise<Uint8Array> {
  cachedImage ??= (async () => {
    const manifest = new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url);
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
    const path = join(tmpdir(), `jobwire-test-pglite-${version}.tar`);
    if (existsSync(path)) return new Uint8Array(readFileSync(path));
    const pglite = new PGlite();
    await pglite.waitReady;
    const dump = new Uint8Array(await (await pglite.dumpDataDir('none')).arrayBuffer());
    await pglite.close();
    const partial = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(partial, dump);
    renameSync(partial, path);
    return dump;
  })();
  return cachedImage;
}
