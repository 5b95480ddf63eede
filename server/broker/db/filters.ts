import type { Param } from './executor.ts';

/** Filter query parameters the SDK sends for messages, DLQ and logs. Repeated values are ORed. */
export type FilterName =
  | 'messageId' | 'url' | 'topicName' | 'queueName' | 'scheduleId' | 'label' | 'flowControlKey'
  | 'callerIp' | 'host' | 'path' | 'fromDate' | 'toDate' | 'responseStatus' | 'state';

export interface FilterTable {
  /** Column holding the filter's time (ms) for fromDate / toDate. */
  time: string;
  /** Column names for the simple equality filters this table supports. */
  columns: Partial<Record<FilterName, string>>;
}

const HOST = `split_part(split_part(url, '://', 2), '/', 1)`;
const PATH = `coalesce(substring(url from '^[A-Za-z]+://[^/?#]+(/[^?#]*)'), '/')`;
// The docs and the SDK disagree on the spelling; accept both.
const STATE_ALIASES: Record<string, string> = { CANCELLED: 'CANCELED' };

/** Builds `AND`-joined conditions (or `TRUE`) with positional params `$1…`. */
export function buildFilter(query: URLSearchParams, table: FilterTable): { where: string; params: Param[] } {
  const conditions: string[] = [];
  const params: Param[] = [];
  const bind = (value: Param) => {
    params.push(value);
    return `$${params.length}`;
  };
  const anyOf = (values: string[], render: (v: string) => string) => conditions.push(`(${values.map(render).join(' OR ')})`);
  for (const [name, column] of Object.entries(table.columns) as [FilterName, string][]) {
    const values = query.getAll(name).filter((v) => v !== '');
    if (values.length === 0) continue;
    if (name === 'label') anyOf(values, (v) => `${column} @> ${bind(JSON.stringify([v]))}::text::jsonb`);
    else if (name === 'responseStatus') anyOf(values, (v) => `${column} = ${bind(Number(v) || 0)}`);
    else if (name === 'state') anyOf(values, (v) => `${column} = ${bind(STATE_ALIASES[v.toUpperCase()] ?? v.toUpperCase())}`);
    else anyOf(values, (v) => `${column} = ${bind(v)}`);
  }
  const hosts = query.getAll('host').filter((v) => v !== '');
  if (hosts.length > 0) anyOf(hosts, (v) => `${HOST} = ${bind(v)}`);
  const paths = query.getAll('path').filter((v) => v !== '');
  if (paths.length > 0) anyOf(paths, (v) => `${PATH} = ${bind(v)}`);
  const from = Number(query.get('fromDate'));
  if (query.get('fromDate') && Number.isFinite(from)) conditions.push(`${table.time} >= ${bind(from)}`);
  const to = Number(query.get('toDate'));
  if (query.get('toDate') && Number.isFinite(to)) conditions.push(`${table.time} <= ${bind(to)}`);
  return { where: conditions.length > 0 ? conditions.join(' AND ') : 'TRUE', params };
}

const COMMON = { url: 'url', topicName: 'topic_name', queueName: 'queue_name', scheduleId: 'schedule_id', label: 'labels', flowControlKey: 'flow_key', callerIp: 'caller_ip' } as const;

export const MESSAGE_FILTERS: FilterTable = { time: 'created_at', columns: { ...COMMON, messageId: 'id' } };
export const DLQ_FILTERS: FilterTable = { time: 'created_at', columns: { ...COMMON, messageId: 'message_id', responseStatus: 'response_status' } };
export const EVENT_FILTERS: FilterTable = { time: 'time', columns: { ...COMMON, messageId: 'message_id', state: 'state' } };

/** `count` within [1, max], default `fallback`. */
export function pageSize(query: URLSearchParams, fallback = 100, max = 1000): number {
  const n = Number(query.get('count'));
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : fallback;
}
