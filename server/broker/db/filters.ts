import { badRequest } from '../errors.ts';
import type { Param } from './executor.ts';

/** Filter query parameters the SDK sends for messages, DLQ and logs. Repeated values are ORed. */
export type FilterName =
  | 'messageId' | 'url' | 'topicName' | 'queueName' | 'scheduleId' | 'label' | 'flowControlKey'
  | 'callerIp' | 'host' | 'path' | 'fromDate' | 'toDate' | 'responseStatus' | 'state' | 'workflowRunId' | 'workflowUrl';

export interface FilterTable {
  /** Column holding the filter's time (ms) for fromDate / toDate. */
  time: string;
  /** Column names for the simple equality filters this table supports. */
  columns: Partial<Record<FilterName, string>>;
  /** Whether `host` / `path` (parts of the `url` column) may be filtered on. */
  hostPath?: boolean;
  /** Accepted `state` values (upper case), when the table has a state filter. */
  states?: readonly string[];
}

export interface Filter {
  where: string;
  params: Param[];
  /** True when the request named no filter at all (the condition is `TRUE`). */
  empty: boolean;
}

const HOST = `split_part(split_part(url, '://', 2), '/', 1)`;
const PATH = `coalesce(substring(url from '^[A-Za-z]+://[^/?#]+(/[^?#]*)'), '/')`;
// The docs and the SDK disagree on the spelling; accept both.
const STATE_ALIASES: Record<string, string> = { CANCELLED: 'CANCELED' };

/**
 * Builds `AND`-joined conditions (or `TRUE`) with positional params `$1…`. Every query parameter
 * must be a filter this table knows or one of `control` (count, cursor, …): a misspelt filter is a
 * 400 naming it, never a silent match-all. Values are checked too (dates, status codes, states).
 */
export function buildFilter(query: URLSearchParams, table: FilterTable, control: readonly string[]): Filter {
  const known = new Set<string>([...Object.keys(table.columns), ...(table.hostPath ? ['host', 'path'] : []), 'fromDate', 'toDate', ...control]);
  for (const name of new Set(query.keys())) {
    if (!known.has(name)) throw badRequest(`unknown filter: ${name}`);
  }
  const conditions: string[] = [];
  const params: Param[] = [];
  const bind = (value: Param) => {
    params.push(value);
    return `$${params.length}`;
  };
  const anyOf = (values: string[], render: (v: string) => string) => conditions.push(`(${values.map(render).join(' OR ')})`);
  for (const [name, column] of Object.entries(table.columns) as [FilterName, string][]) {
    const values = valuesOf(query, name);
    if (values.length === 0) continue;
    if (name === 'label') anyOf(values, (v) => `${column} @> ${bind(JSON.stringify([v]))}::text::jsonb`);
    else if (name === 'responseStatus') anyOf(values, (v) => `${column} = ${bind(statusCode(v))}`);
    else if (name === 'state') anyOf(values, (v) => `${column} = ${bind(state(v, table.states ?? []))}`);
    else anyOf(values, (v) => `${column} = ${bind(v)}`);
  }
  if (table.hostPath) {
    const hosts = valuesOf(query, 'host');
    if (hosts.length > 0) anyOf(hosts, (v) => `${HOST} = ${bind(v)}`);
    const paths = valuesOf(query, 'path');
    if (paths.length > 0) anyOf(paths, (v) => `${PATH} = ${bind(v)}`);
  }
  const from = timeParam(query, 'fromDate');
  if (from !== undefined) conditions.push(`${table.time} >= ${bind(from)}`);
  const to = timeParam(query, 'toDate');
  if (to !== undefined) conditions.push(`${table.time} <= ${bind(to)}`);
  return { where: conditions.length > 0 ? conditions.join(' AND ') : 'TRUE', params, empty: conditions.length === 0 };
}

/** `IN (…)` over explicit ids, or undefined when the request names none. */
export function idFilter(query: URLSearchParams, name: string, column: string): Filter | undefined {
  const ids = query.getAll(name).filter((v) => v !== '');
  if (ids.length === 0) return undefined;
  return { where: `${column} IN (${ids.map((_id, i) => `$${i + 1}`).join(', ')})`, params: ids, empty: false };
}

/**
 * A bulk delete / retry / cancel with no filter acts on everything only when asked explicitly:
 * `all=true`, or the official SDK's `{ all: true }`, which it sends as nothing but `count` (and `cursor`).
 */
export function requireExplicitAll(query: URLSearchParams, filter: Filter, what: string): void {
  const all = query.get('all');
  if (all !== null && all !== 'true') throw badRequest('invalid all: must be true');
  if (!filter.empty) {
    if (all === 'true') throw badRequest('all=true cannot be combined with filters');
    return;
  }
  if (all === 'true' || query.has('count')) return;
  throw badRequest(`no filter given: pass all=true to ${what} everything`);
}

function valuesOf(query: URLSearchParams, name: string): string[] {
  return query.getAll(name).filter((v) => v !== '');
}

function statusCode(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 999) throw badRequest(`invalid responseStatus: ${text}`);
  return n;
}

function state(text: string, allowed: readonly string[]): string {
  const upper = text.toUpperCase();
  const value = STATE_ALIASES[upper] ?? upper;
  if (!allowed.includes(value)) throw badRequest(`invalid state: ${text}, use one of ${allowed.join(', ')}`);
  return value;
}

function timeParam(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw badRequest(`invalid ${name}: must be a unix time in milliseconds`);
  return n;
}

const COMMON = { url: 'url', topicName: 'topic_name', queueName: 'queue_name', scheduleId: 'schedule_id', label: 'labels', flowControlKey: 'flow_key', callerIp: 'caller_ip' } as const;
const EVENT_STATES = ['CREATED', 'ACTIVE', 'DELIVERED', 'ERROR', 'RETRY', 'FAILED', 'CANCEL_REQUESTED', 'CANCELED'] as const;

export const MESSAGE_FILTERS: FilterTable = { time: 'created_at', columns: { ...COMMON, messageId: 'id' }, hostPath: true };
// QStash's DLQ rejects host/path (the SDK documents it); so does this one.
export const DLQ_FILTERS: FilterTable = {
  time: 'created_at',
  columns: { ...COMMON, messageId: 'message_id', responseStatus: 'response_status', workflowRunId: `(message -> 'workflow' ->> 'runId')`, workflowUrl: `(message -> 'workflow' ->> 'url')` },
};
export const EVENT_FILTERS: FilterTable = { time: 'time', columns: { ...COMMON, messageId: 'message_id', state: 'state' }, hostPath: true, states: EVENT_STATES };

/** `count` within [1, max], default `fallback`; anything else given is a 400. */
export function pageSize(query: URLSearchParams, fallback = 100, max = 1000): number {
  const text = query.get('count');
  if (text === null || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw badRequest('invalid count: must be a positive integer');
  return Math.min(n, max);
}
