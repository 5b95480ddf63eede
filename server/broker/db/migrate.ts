import type { Executor } from './executor.ts';
import { MIGRATIONS } from './migrations.ts';

// Arbitrary constant: serialises concurrent migrators on one Postgres server.
const MIGRATION_LOCK = 7_245_118_003;

/** Brings the `qstash` schema up to date. Idempotent; safe beside the app's own tables. */
export async function migrate(db: Executor): Promise<number> {
  await db.exec('CREATE SCHEMA IF NOT EXISTS qstash');
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query('CREATE TABLE IF NOT EXISTS qstash.schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)');
    const applied = await tx.query<{ version: number }>('SELECT version FROM qstash.schema_migrations');
    const done = new Set(applied.map((r) => r.version));
    let count = 0;
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query('INSERT INTO qstash.schema_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, Date.now()]);
      count++;
    }
    return count;
  });
}

// Extended-protocol queries take one statement each; the migration files contain no `;` in literals.
function splitStatements(sql: string): string[] {
  return sql.split(';').map((s) => s.trim()).filter((s) => s.length > 0);
}
