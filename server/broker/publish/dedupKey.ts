import { createHash } from 'node:crypto';
import type { MessageSpec } from '../messages/messageModel.ts';
import type { HeaderMap } from './headerMap.ts';

/** How long a deduplication id or content hash blocks a repeat (QStash docs: 10 minutes). */
export const DEDUP_WINDOW_MS = 10 * 60_000;

/** The key a publish is deduplicated on, if it asked for deduplication. */
export function dedupKey(headers: HeaderMap, spec: Pick<MessageSpec, 'url' | 'body' | 'header'>): string | undefined {
  const id = headers.get('upstash-deduplication-id');
  if (id) return `id:${id}`;
  if (headers.get('upstash-content-based-deduplication')?.toLowerCase() !== 'true') return undefined;
  // Content = destination + body + Content-Type + forwarded headers, in a stable order.
  const hash = createHash('sha256').update(spec.url).update('\0').update(spec.body).update('\0');
  for (const name of Object.keys(spec.header).sort()) hash.update(`${name}:${(spec.header[name] ?? []).join(',')}\n`);
  return `content:${hash.digest('hex')}`;
}
