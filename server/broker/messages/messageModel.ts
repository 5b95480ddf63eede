/**
 * Glossary
 * - message: one body bound for one URL, attempted 1 + maxRetries times.
 * - delivery / attempt: one HTTP request to the destination; `retried` counts failed attempts so far.
 * - callback message: a message the broker publishes itself to report an outcome (kind ≠ 'message').
 * - due time: when the dispatcher may next attempt the message (ms).
 */
import type { Redaction } from '../redact/redaction.ts';
import type { WorkflowInfo } from '../workflows/workflowInfo.ts';

export type MessageKind = 'message' | 'callback' | 'failure_callback';
export type Header = Record<string, string[]>;

/** `Upstash-Callback-*` / `Upstash-Failure-Callback-*` settings for the messages a callback publishes. */
export interface CallbackSettings {
  retries?: number;
  timeoutMs?: number;
  delayMs?: number;
  method?: string;
  retryDelay?: string;
  header?: Header;
  /** `Upstash-(Failure-)Callback-Workflow-*`: the callback continues a workflow run. */
  workflow?: WorkflowInfo;
}

export interface CallbackOptions {
  callback?: CallbackSettings;
  failureCallback?: CallbackSettings;
}

export interface FlowControl {
  key: string;
  parallelism?: number;
  rate?: number;
  /** Rate period in seconds; default 1. */
  period?: number;
}

/** Everything a publish decides about a message before it gets an id. */
export interface MessageSpec {
  kind: MessageKind;
  url: string;
  method: string;
  /** Headers forwarded to the destination, prefix stripped, plus Content-Type. */
  header: Header;
  body: Buffer;
  topicName?: string;
  endpointName?: string;
  queueName?: string;
  scheduleId?: string;
  maxRetries: number;
  retryDelay?: string;
  callback?: string;
  failureCallback?: string;
  callbackOptions: CallbackOptions;
  timeoutMs?: number;
  notBefore: number;
  flow?: FlowControl;
  labels: string[];
  callerIp?: string;
  /** `Upstash-Redact-Fields`: hidden from the API and the log, still delivered. */
  redact?: Redaction;
  /** Set when the message belongs to an Upstash Workflow run. */
  workflow?: WorkflowInfo;
}

export type MessageState = 'CREATED' | 'ACTIVE' | 'RETRY';

export interface StoredMessage extends MessageSpec {
  id: string;
  seq: number;
  createdAt: number;
  dueAt: number;
  retried: number;
  state: MessageState;
}

/** Maps a messages row (or its `to_jsonb` snapshot kept in the DLQ) back to the domain type. */
export function rowToMessage(row: Record<string, unknown>): StoredMessage {
  const str = (k: string) => (row[k] == null ? undefined : String(row[k]));
  const num = (k: string) => (row[k] == null ? undefined : Number(row[k]));
  const flowKey = str('flow_key');
  return {
    id: String(row.id),
    seq: Number(row.seq),
    kind: (str('kind') ?? 'message') as MessageKind,
    url: String(row.url),
    method: String(row.method),
    header: (row.header ?? {}) as Header,
    body: toBuffer(row.body),
    topicName: str('topic_name'),
    endpointName: str('endpoint_name'),
    queueName: str('queue_name'),
    scheduleId: str('schedule_id'),
    maxRetries: Number(row.max_retries),
    retried: Number(row.retried ?? 0),
    retryDelay: str('retry_delay'),
    callback: str('callback'),
    failureCallback: str('failure_callback'),
    callbackOptions: (row.callback_options ?? {}) as CallbackOptions,
    timeoutMs: num('timeout_ms'),
    notBefore: Number(row.not_before),
    createdAt: Number(row.created_at),
    dueAt: Number(row.due_at),
    state: String(row.state) as MessageState,
    flow: flowKey === undefined ? undefined : { key: flowKey, parallelism: num('flow_parallelism'), rate: num('flow_rate'), period: num('flow_period') },
    labels: (row.labels ?? []) as string[],
    callerIp: str('caller_ip'),
    redact: (row.redact ?? undefined) as Redaction | undefined,
    workflow: (row.workflow ?? undefined) as WorkflowInfo | undefined,
  };
}

export function toBuffer(value: unknown): Buffer {
  if (value == null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  // to_jsonb renders bytea as "\\x…" hex text.
  const text = String(value);
  return text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex') : Buffer.from(text);
}
