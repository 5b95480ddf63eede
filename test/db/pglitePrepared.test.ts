import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExecutor } from '../../server/broker/db/executor.ts';
import { openDatabase, queryRows } from '../../server/db/database.ts';
import { preparedPglite } from '../../server/db/pglitePrepared.ts';
import { createTestDatabaseTarget, TEST_DRIVER, type TestDatabaseTarget } from '../support/testDatabase.ts';

// PGlite-only (the postgres project runs postgres.js's prepared statements instead).
describe.skipIf(TEST_DRIVER !== 'pglite')('PGlite statements prepared once (server/db/pglitePrepared.ts)', () => {
  let target: TestDatabaseTarget;
  let pg: PGlite;
  /** Parse messages PGlite was sent, by statement name ('' = PGlite's own unnamed statement). */
  let parses: string[];

  beforeEach(async () => {
    target = await createTestDatabaseTarget('pglite');
    pg = target.pglite!; // set for pglite
    parses = [];
    const execProtocolStream = pg.execProtocolStream.bind(pg);
    pg.execProtocolStream = (message, options) => {
      if (message[0] === 'P'.charCodeAt(0)) parses.push(new TextDecoder().decode(message.subarray(5, message.indexOf(0, 5))));
      return execProtocolStream(message, options);
    };
    await pg.exec(`CREATE TABLE t (id serial PRIMARY KEY, v jsonb, at timestamptz DEFAULT now(), n int8, s text)`);
  });
  afterEach(() => target.drop());

  it('parses the app’s and the broker’s statements once each, then only binds and executes them', async () => {
    const database = await openDatabase({ pglite: pg });
    const broker = createExecutor({ pglite: pg });
    for (let i = 0; i < 3; i++) {
      await queryRows(database.db, sql`INSERT INTO t (n) VALUES (${i})`);
      await database.db.transaction(async (tx) => queryRows(tx, sql`SELECT count(*) AS c FROM t WHERE n >= ${0}`));
      await broker.query('SELECT id FROM t WHERE n = $1', [i]);
      await broker.transaction((tx) => tx.query('UPDATE t SET s = $1 WHERE n = $2', ['x', i]));
    }
    // Four statements (and PGlite's own BEGIN/COMMIT, simple queries): four Parses, all named.
    expect(parses).toHaveLength(4);
    expect(parses.every((name) => name !== '')).toBe(true);
    expect(await queryRows(database.db, sql`SELECT count(*)::int AS c FROM t WHERE s = 'x'`)).toEqual([{ c: 3 }]);
  });

  it('answers as PGlite’s own query does: rows, fields, row mode, parsers, command and counts', async () => {
    const prepared = preparedPglite(pg);
    const insert = `INSERT INTO t (v, n, s) VALUES ($1, $2, $3), ($4, $5, NULL) RETURNING id, v, n, s, at`;
    const params = [{ a: [1, 'b'] }, 7, "it's", { z: null }, 8];
    const own = await pg.query(insert, params);
    const ours = await prepared.query(insert, params);
    expect({ ...ours, rows: ours.rows.map((r) => ({ ...(r as object), id: 0, at: 0 })) }).toEqual({ ...own, rows: own.rows.map((r) => ({ ...(r as object), id: 0, at: 0 })) });
    expect((ours.rows[0] as { at: unknown }).at).toBeInstanceOf(Date);

    const asDrizzle = { rowMode: 'array' as const, parsers: { 1184: (value: string) => value } }; // drizzle keeps timestamps as text
    const select = `SELECT id, v, at, n FROM t WHERE n > $1 ORDER BY id`;
    const ownRows = await pg.query(select, [0], asDrizzle);
    expect(await prepared.query(select, [0], asDrizzle)).toEqual(ownRows);
    expect(typeof (ownRows.rows[0] as unknown[])[2]).toBe('string');

    for (const text of [`UPDATE t SET s = $1 WHERE n > $2`, `DELETE FROM t WHERE n = $1`, `SELECT 1 AS one WHERE false`]) {
      const values = text.startsWith('UPDATE') ? ['y', 0] : text.startsWith('DELETE') ? [7] : [];
      const { rows, fields, command, affectedRows, rowCount } = await prepared.query(text, values);
      expect({ rows, fields, command, affectedRows, rowCount }).toMatchObject(
        text.startsWith('UPDATE') ? { command: 'UPDATE', affectedRows: 4, rowCount: 4 } : text.startsWith('DELETE') ? { command: 'DELETE', affectedRows: 2, rowCount: 2 } : { command: 'SELECT', affectedRows: 0, rowCount: 0, rows: [], fields: [{ name: 'one', dataTypeID: 23 }] },
      );
    }
  });

  it('reports a failed statement with its code and text, and the next statements run', async () => {
    const prepared = preparedPglite(pg);
    const failing = prepared.query(`SELECT 1 / $1::int AS x`, [0]);
    await expect(failing).rejects.toMatchObject({ code: '22012', query: 'SELECT 1 / $1::int AS x', params: [0] });
    expect((await prepared.query(`SELECT 1 / $1::int AS x`, [1])).rows).toEqual([{ x: 1 }]);
    await expect(prepared.query(`SELEC 1`)).rejects.toMatchObject({ code: '42601' });

    // In a transaction: the failure rolls it back, as with PGlite's own transaction.
    await expect(
      prepared.transaction(async (tx) => {
        await tx.query(`INSERT INTO t (n) VALUES ($1)`, [1]);
        await tx.query(`INSERT INTO t (id, n) VALUES ($1, $2), ($1, $2)`, [99, 2]);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect((await prepared.query(`SELECT count(*)::int AS c FROM t`)).rows).toEqual([{ c: 0 }]);
    // A statement prepared in a transaction that rolled back stays prepared (statements are not transactional).
    await prepared.query(`INSERT INTO t (n) VALUES ($1)`, [3]);
    expect(parses.filter((name) => name !== '')).toHaveLength(5);
  });

  it('prepares a statement again when its table changed shape under it', async () => {
    const prepared = preparedPglite(pg);
    await prepared.query(`INSERT INTO t (n) VALUES ($1)`, [1]);
    expect(Object.keys((await prepared.query(`SELECT * FROM t WHERE n = $1`, [1])).rows[0] as object)).toEqual(['id', 'v', 'at', 'n', 's']);
    await pg.exec(`ALTER TABLE t ADD COLUMN w text`);
    expect(Object.keys((await prepared.query(`SELECT * FROM t WHERE n = $1`, [1])).rows[0] as object)).toEqual(['id', 'v', 'at', 'n', 's', 'w']);
  });

  it('delivers the notifications a statement sends, and serializes concurrent callers with transactions', async () => {
    const prepared = preparedPglite(pg);
    const heard: string[] = [];
    await pg.listen('ch', (payload) => heard.push(payload));
    await prepared.query(`SELECT pg_notify('ch', $1)`, ['hello']);
    // A transaction holds PGlite's one connection: a statement issued meanwhile runs after its commit.
    let inside = 0;
    const tx = prepared.transaction(async (t) => {
      await t.query(`INSERT INTO t (n) VALUES ($1)`, [1]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inside = (await t.query<{ c: number }>(`SELECT count(*)::int AS c FROM t`)).rows[0]?.c ?? -1;
    });
    const outside = prepared.query<{ c: number }>(`SELECT count(*)::int AS c FROM t`);
    await tx;
    expect(inside).toBe(1);
    expect((await outside).rows).toEqual([{ c: 1 }]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(heard).toEqual(['hello']);
  });

  it('keeps one text with different declared parameter types as different statements', async () => {
    const prepared = preparedPglite(pg);
    expect((await prepared.query(`SELECT $1 AS v`, ['1'], { paramTypes: [23] })).rows).toEqual([{ v: 1 }]);
    expect((await prepared.query(`SELECT $1 AS v`, ['1'], { paramTypes: [25] })).rows).toEqual([{ v: '1' }]);
  });

  it('keeps a bounded number of statements prepared', async () => {
    const prepared = preparedPglite(pg);
    for (let i = 0; i < 520; i++) await prepared.query(`SELECT ${i} AS n WHERE $1::int > 0`, [1]);
    expect((await prepared.query(`SELECT $1::int AS again`, [2])).rows).toEqual([{ again: 2 }]);
    const [{ c }] = (await pg.query<{ c: number }>(`SELECT count(*)::int AS c FROM pg_prepared_statements`)).rows as [{ c: number }];
    expect(c).toBeLessThanOrEqual(500);
    expect(c).toBeGreaterThan(400);
  });
});
