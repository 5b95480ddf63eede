import { sql } from 'drizzle-orm';
import { index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { tz } from './schema.ts';

/**
 * The users jobwire has seen through verified tokens: one row per user and organization, with the
 * role last seen. jobwire owns no user accounts; this directory is what `export-data`'s `users`
 * entity and the operator views read.
 */
export const jobwireUsers = pgTable(
  'jobwire_users',
  {
    /** The token's `sub`, a decimal string. */
    userId: text('user_id').notNull(),
    organizationId: integer('organization_id').notNull(),
    role: text('role').notNull(),
    firstSeenAt: tz('first_seen_at').notNull().default(sql`now()`),
    lastSeenAt: tz('last_seen_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.userId] }), index('jobwire_users_org_first_seen_idx').on(t.organizationId, t.firstSeenAt)],
);

export type JobwireUserRow = typeof jobwireUsers.$inferSelect;
