import { createHash } from 'node:crypto';
import { badRequest } from '../errors.ts';
import type { Header } from '../messages/messageModel.ts';

/**
 * What `Upstash-Redact-Fields` asked to hide from the API and the log: the body, every header, or
 * the named headers (lower case). Deliveries always carry the original values.
 */
export interface Redaction {
  body?: boolean;
  header?: true | string[];
}

/** Parses `body, header, header[Authorization]` (the SDK's spelling; the docs' `headers…` too). */
export function parseRedactFields(value: string | undefined): Redaction | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const redaction: Redaction = {};
  for (const raw of value.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const named = /^headers?\[(.+)\]$/i.exec(part);
    if (part.toLowerCase() === 'body') redaction.body = true;
    else if (/^headers?$/i.test(part)) redaction.header = true;
    else if (named?.[1] && redaction.header !== true) redaction.header = [...(redaction.header ?? []), named[1].trim().toLowerCase()];
    else if (!named) throw badRequest(`invalid Upstash-Redact-Fields: unknown field ${part}, use body, header or header[Name]`);
  }
  return redaction;
}

/** `REDACTED:<sha256 hex>`: comparable with a value the reader already has, revealing nothing. */
export function redactedValue(value: string | Uint8Array): string {
  return `REDACTED:${createHash('sha256').update(value).digest('hex')}`;
}

export function redactHeader(header: Header, redaction: Redaction | undefined): Header {
  const hidden = redaction?.header;
  if (!hidden) return header;
  const out: Header = {};
  for (const [name, values] of Object.entries(header)) {
    out[name] = hidden === true || hidden.includes(name.toLowerCase()) ? values.map(redactedValue) : values;
  }
  return out;
}

export function redactBody(body: Buffer, redaction: Redaction | undefined): Buffer {
  return redaction?.body && body.length > 0 ? Buffer.from(redactedValue(body)) : body;
}

/** A callback's body quotes its source's headers and body, so any redaction of the source hides it. */
export function callbackRedaction(source: Redaction | undefined): Redaction | undefined {
  return source && (source.body || source.header) ? { body: true } : undefined;
}
