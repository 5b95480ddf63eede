import { badRequest } from '../errors.ts';

/** Parses a JSON object body; anything else is a 400, never a crash. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('invalid request body: expected JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('invalid request body: expected a JSON object');
  return value as Record<string, unknown>;
}
