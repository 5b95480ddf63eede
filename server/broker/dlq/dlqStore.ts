import type { Param, Queryable } from '../db/executor.ts';
import { bodyFields, messageJson } from '../messages/messageJson.ts';
import { rowToMessage, toBuffer, type Header, type StoredMessage } from '../messages/messageModel.ts';

export interface DlqEntry {
  seq: number;
  dlqId: string;
  message: StoredMessage;
  responseStatus?: number;
  responseHeader?: Header;
  responseBody: Buffer;
  createdAt: number;
}

function rowToEntry(row: Record<string, unknown>): DlqEntry {
  return {
    seq: Number(row.seq),
    dlqId: String(row.dlq_id),
    message: rowToMessage({ ...(row.message as Record<string, unknown>), body: row.body }),
    responseStatus: row.response_status == null ? undefined : Number(row.response_status),
    responseHeader: (row.response_header ?? undefined) as Header | undefined,
    responseBody: toBuffer(row.response_body),
    createdAt: Number(row.created_at),
  };
}

export interface DlqSelection {
  where: string;
  params: Param[];
}

/** One page in DLQ order; `cursor` is the last seq returned when more entries follow. */
export async function listDlq(db: Queryable, selection: DlqSelection, page: { count: number; after?: number }): Promise<{ entries: DlqEntry[]; cursor?: string }> {
  const params = [...selection.params, page.after ?? 0, page.count + 1];
  const rows = await db.query(
    `SELECT * FROM qstash.dlq WHERE (${selection.where}) AND seq > $${params.length - 1} ORDER BY seq LIMIT $${params.length}`,
    params,
  );
  const entries = rows.slice(0, page.count).map(rowToEntry);
  const last = entries.at(-1);
  return rows.length > page.count && last ? { entries, cursor: String(last.seq) } : { entries };
}

export async function getDlqEntry(db: Queryable, dlqId: string): Promise<DlqEntry | undefined> {
  const [row] = await db.query('SELECT * FROM qstash.dlq WHERE dlq_id = $1', [dlqId]);
  return row ? rowToEntry(row) : undefined;
}

export async function deleteDlqEntries(db: Queryable, dlqIds: string[]): Promise<number> {
  if (dlqIds.length === 0) return 0;
  const rows = await db.query(`DELETE FROM qstash.dlq WHERE dlq_id IN (${dlqIds.map((_d, i) => `$${i + 1}`).join(', ')}) RETURNING dlq_id`, dlqIds);
  return rows.length;
}

/** The SDK's `DlqMessage`: a Message plus dlqId and the last response. */
export function dlqJson(entry: DlqEntry) {
  return {
    ...messageJson(entry.message),
    dlqId: entry.dlqId,
    responseStatus: entry.responseStatus,
    responseHeader: entry.responseHeader,
    ...bodyFields(entry.responseBody, ['responseBody', 'responseBodyBase64']),
    ...(entry.message.workflow ? { workflowRunId: entry.message.workflow.runId, workflowUrl: entry.message.workflow.url } : {}),
  };
}
