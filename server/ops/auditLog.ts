import { and, desc, eq, lt, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Caller } from '../auth/token.ts';
import type { DbOrTx } from '../db/database.ts';
import { operatorAuditLog, type OperatorAuditRow } from '../db/opsSchema.ts';

export interface OperatorAction {
  caller: Caller;
  /** Procedure path: `jobs.retry`, `jobs.bulkCancel`, `webhooks.replay`… */
  action: string;
  input: unknown;
  /** The call's result, when it succeeded: job ids and a bulk operation id are read from it. */
  result?: unknown;
  outcome: string;
  requestId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const str = (value: unknown, key: string) => {
  const found = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof found === 'string' && UUID.test(found) ? found : undefined;
};

/** The input as recorded: an edited payload is the tenant's data, so only the fact that there was one is kept. */
function recordedInput(input: unknown): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input ?? null;
  const { payload, ...rest } = input as Record<string, unknown>;
  return payload === undefined ? rest : { ...rest, payload: '[omitted]' };
}

/** Appends one operator action to the audit log. */
export async function recordOperatorAction(db: DbOrTx, action: OperatorAction): Promise<void> {
  const jobIds = [...new Set([str(action.input, 'jobId'), str(action.result, 'jobId'), str(action.result, 'replayOf')].filter((id): id is string => id !== undefined))];
  await db.insert(operatorAuditLog).values({
    userId: action.caller.userId,
    organizationId: action.caller.organizationId,
    action: action.action,
    input: recordedInput(action.input),
    jobIds,
    bulkOperationId: str(action.result, 'operationId') ?? null,
    outcome: action.outcome,
    requestId: action.requestId,
  });
}

export const AuditLogInput = z.object({
  /** Only this operator's actions. */
  userId: z.string().regex(/^[0-9]{1,20}$/).optional(),
  /** Only actions that named or created this job. */
  jobId: z.uuid().optional(),
  /** Only this procedure, e.g. `jobs.bulkRetry`. */
  action: z.string().regex(/^[a-zA-Z.]{1,100}$/).optional(),
  /** Page size, 1–200. Default 50. */
  limit: z.number().int().min(1).max(200).default(50),
  /** `nextCursor` of the previous page. */
  cursor: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullish(),
});

export interface AuditEntry {
  auditId: number;
  at: Date;
  userId: string;
  organizationId: number;
  action: string;
  input: unknown;
  jobIds: string[];
  bulkOperationId: string | null;
  outcome: string;
}

const toEntry = (row: OperatorAuditRow): AuditEntry => ({
  auditId: row.id,
  at: row.at,
  userId: row.userId,
  organizationId: row.organizationId,
  action: row.action,
  input: row.input,
  jobIds: row.jobIds,
  bulkOperationId: row.bulkOperationId,
  outcome: row.outcome,
});

/** Newest first, keyset-paginated on the entry id. */
export async function listAuditLog(db: DbOrTx, input: z.output<typeof AuditLogInput>): Promise<{ items: AuditEntry[]; nextCursor: number | null }> {
  const a = operatorAuditLog;
  const filters: (SQL | undefined)[] = [
    input.userId ? eq(a.userId, input.userId) : undefined,
    input.action ? eq(a.action, input.action) : undefined,
    input.jobId ? sql`${a.jobIds} @> ${JSON.stringify([input.jobId])}::jsonb` : undefined,
    input.cursor ? lt(a.id, input.cursor) : undefined,
  ];
  const rows = await db.select().from(a).where(and(...filters)).orderBy(desc(a.id)).limit(input.limit + 1);
  const items = rows.slice(0, input.limit).map(toEntry);
  return { items, nextCursor: rows.length > input.limit ? (items.at(-1)?.auditId ?? null) : null };
}
