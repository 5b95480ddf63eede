/**
 * Whose jobs a call may see. API callers are always scoped to their verified organization;
 * server code may pass `ALL_ORGANIZATIONS`.
 */
export type Scope = { organizationId: number } | typeof ALL_ORGANIZATIONS;
export const ALL_ORGANIZATIONS = 'all' as const;

/** Whose job events a stream carries: one organization's, those of jobs of none (`null`), or all (operators). */
export type EventScope = { organizationId: number | null } | typeof ALL_ORGANIZATIONS;
