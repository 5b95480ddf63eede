import { and, asc, count, desc, eq, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { z } from 'zod';
import type { ExportAccess, ExportEntity } from './exportRegistry.ts';

export interface TableExportSpec<F extends z.ZodType> {
  description: string;
  /** Who may export it through the API; declared by every entity, so none is member-visible by omission. */
  access: ExportAccess;
  table: PgTable;
  /** The tenant column: every query is restricted to the job's organization through it. */
  organizationId: PgColumn;
  /** A unique ordering (e.g. `[createdAt, id]`): the keyset the export pages through. */
  keyset: readonly [PgColumn, ...PgColumn[]];
  /** Walk the keyset newest first. Default false. Match an index's direction to avoid a sort. */
  descending?: boolean;
  /** Output column name → table column. */
  columns: Record<string, PgColumn>;
  filters: F;
  /** Conditions for the parsed filters (undefined entries are ignored). */
  where?: (filters: z.output<F>) => (SQL | undefined)[];
}

/**
 * An export entity over one drizzle table, paged by keyset: `WHERE org = $1 AND … AND
 * (k1, k2) > ($last1, $last2) ORDER BY k1, k2 LIMIT n` (`<` and DESC when descending). This is the "cursor" of exports: it
 * works the same on PGlite and postgres.js, holds no server-side cursor or transaction open
 * between pages, and each page is an index range scan when an index covers (org, keyset).
 */
export function defineTableExport<F extends z.ZodType>(spec: TableExportSpec<F>): ExportEntity<F> {
  const condition = (organizationId: number, filters: z.output<F>) => and(eq(spec.organizationId, organizationId), ...(spec.where?.(filters) ?? []));
  const keys = Object.fromEntries(spec.keyset.map((column, i) => [`k${i}`, column]));
  return {
    description: spec.description,
    access: spec.access,
    columns: Object.keys(spec.columns),
    filters: spec.filters,
    async count(db, { organizationId, filters }) {
      const [row] = await db.select({ n: count() }).from(spec.table).where(condition(organizationId, filters));
      return row?.n ?? 0;
    },
    async page(db, { organizationId, filters }, cursor, limit) {
      const after = cursor
        ? sql`(${sql.join([...spec.keyset], sql`, `)}) ${sql.raw(spec.descending ? '<' : '>')} (${sql.join(spec.keyset.map((column, i) => sql.param(cursor[i], column)), sql`, `)})`
        : undefined;
      const rows = await db
        .select({ row: spec.columns, key: keys })
        .from(spec.table)
        .where(and(condition(organizationId, filters), after))
        .orderBy(...spec.keyset.map((column) => (spec.descending ? desc(column) : asc(column))))
        .limit(limit);
      const last = rows.at(-1);
      return {
        rows: rows.map((r) => r.row),
        cursor: last && rows.length === limit ? spec.keyset.map((_, i) => last.key[`k${i}`]) : null,
      };
    },
  };
}
