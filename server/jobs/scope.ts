/**
 * Whose jobs a call may see. API callers are always scoped to their verified organization;
 * server code may pass `ALL_ORGANIZATIONS`.
 */
export type Scope = { organizationId: number } | typeof ALL_ORGANIZATIONS;
export const ALL_ORGANIZATIONS = 'all' as const;
