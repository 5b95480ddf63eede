import { gte, inArray, lt } from 'drizzle-orm';
import { z } from 'zod';
import { Caller } from '../auth/token.ts';
import { jobwireUsers as t } from '../db/usersSchema.ts';
import { defineTableExport } from './defineTableExport.ts';
import { Instant, oneOrMany } from './filterSchemas.ts';

export const UsersExportFilters = z
  .strictObject({
    role: oneOrMany(Caller.shape.role).optional(),
    /** On `firstSeenAt` (when jobwire first saw the user), inclusive. */
    createdAfter: Instant.optional(),
    /** On `firstSeenAt`, exclusive. */
    createdBefore: Instant.optional(),
  })
  .refine((f) => !f.createdAfter || !f.createdBefore || f.createdAfter <= f.createdBefore, {
    message: 'createdAfter must not be after createdBefore',
    path: ['createdBefore'],
  });

/** `users`: the users jobwire has seen in the organization through verified tokens, first seen first. */
export const usersExport = defineTableExport({
  description: 'The users seen in the organization',
  // Who is in the organization and with which role: admins only.
  access: 'admin',
  table: t,
  organizationId: t.organizationId,
  // Along jobwire_users_org_first_seen_idx (organization_id, first_seen_at); user_id makes it unique.
  keyset: [t.firstSeenAt, t.userId],
  columns: {
    userId: t.userId,
    organizationId: t.organizationId,
    role: t.role,
    firstSeenAt: t.firstSeenAt,
    lastSeenAt: t.lastSeenAt,
  },
  filters: UsersExportFilters,
  where: (f) => [
    f.role ? inArray(t.role, f.role) : undefined,
    f.createdAfter ? gte(t.firstSeenAt, f.createdAfter) : undefined,
    f.createdBefore ? lt(t.firstSeenAt, f.createdBefore) : undefined,
  ],
});
