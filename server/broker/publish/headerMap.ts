import type { Header } from '../messages/messageModel.ts';

/** Request headers by lowercase name; repeated headers arrive joined by Node already. */
export type HeaderMap = Map<string, string>;

export function toHeaderMap(source: Record<string, string | string[] | undefined>): HeaderMap {
  const map: HeaderMap = new Map();
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    map.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value));
  }
  return map;
}

/** Go's canonical header form (`x-foo-bar` → `X-Foo-Bar`), as QStash shows names. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

/** Headers under `prefix` (lowercase), prefix stripped, canonical names. */
export function headersWithPrefix(headers: HeaderMap, prefix: string): Header {
  const out: Header = {};
  for (const [name, value] of headers) {
    if (!name.startsWith(prefix) || name.length === prefix.length) continue;
    out[canonicalName(name.slice(prefix.length))] = [value];
  }
  return out;
}

/** Node's IncomingHttpHeaders / fetch-style headers as `{name: [values]}`. */
export function toHeaderRecord(source: Record<string, string | string[] | undefined>): Header {
  const out: Header = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    out[canonicalName(name)] = Array.isArray(value) ? value : [value];
  }
  return out;
}
