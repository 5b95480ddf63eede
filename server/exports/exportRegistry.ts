import type { z } from 'zod';
import type { EnqueueAccess } from '../../shared/catalogue.ts';
import type { DbOrTx } from '../db/database.ts';

/** Who may export an entity through the API: `member` (any role) or `admin`. Server code may export any. */
export type ExportAccess = Exclude<EnqueueAccess, 'server'>;

/** Where the previous page ended: the keyset columns' values of its last row. */
export type ExportCursor = readonly unknown[];

export interface ExportPage {
  /** One object per row, keyed by the entity's `columns`. */
  rows: Record<string, unknown>[];
  /** Pass to the next `page` call; null once there are no more rows. */
  cursor: ExportCursor | null;
}

/** Which rows: always one organization's, narrowed by the entity's own filters. */
export interface ExportQuery<F> {
  organizationId: number;
  filters: F;
}

/**
 * An exportable entity type. `page` is keyset pagination: each call returns up to `limit` rows
 * after `cursor` in a stable order, so an export of any size reads one page at a time.
 */
export interface ExportEntity<F extends z.ZodType = z.ZodType> {
  readonly description: string;
  /** Checked at `jobs.enqueue` and `jobs.schedule`: a member asking for an `admin` entity is FORBIDDEN. */
  readonly access: ExportAccess;
  /** Column names, in CSV header order; NDJSON objects use the same keys. */
  readonly columns: readonly string[];
  /** The filters this entity accepts (validated at enqueue and again when the job runs). */
  readonly filters: F;
  count(db: DbOrTx, query: ExportQuery<z.output<F>>): Promise<number>;
  page(db: DbOrTx, query: ExportQuery<z.output<F>>, cursor: ExportCursor | null, limit: number): Promise<ExportPage>;
}

export interface ExportRegistry {
  /** Adds (or replaces) an entity type; host apps register their own next to the built-ins. */
  register<F extends z.ZodType>(entityType: string, entity: ExportEntity<F>): ExportRegistry;
  get(entityType: string): ExportEntity | undefined;
  entityTypes(): string[];
}

const ENTITY_TYPE = /^[a-z0-9][a-z0-9-]{0,99}$/;

/** An export registry holding `entities`; see `createDefaultExportRegistry` for the built-ins. */
export function createExportRegistry(entities: Record<string, ExportEntity> = {}): ExportRegistry {
  const byType = new Map<string, ExportEntity>();
  const registry: ExportRegistry = {
    register(entityType, entity) {
      if (!ENTITY_TYPE.test(entityType)) throw new Error(`Export entity type "${entityType}" must be lowercase letters, digits and dashes`);
      // Safe to widen: every caller parses filters with `entity.filters` before passing them back.
      byType.set(entityType, entity as unknown as ExportEntity);
      return registry;
    },
    get: (entityType) => byType.get(entityType),
    entityTypes: () => [...byType.keys()].sort(),
  };
  for (const [entityType, entity] of Object.entries(entities)) registry.register(entityType, entity);
  return registry;
}
