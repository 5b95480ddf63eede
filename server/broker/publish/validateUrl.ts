import { badRequest } from '../errors.ts';

/** Accepts absolute http(s) URLs only, with QStash's wording for the common mistake. */
export function validateUrl(raw: string, what = 'destination url'): string {
  if (!/^https?:\/\//i.test(raw)) throw badRequest(`invalid ${what}: endpoint has invalid scheme, add http:// or https://`);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw badRequest(`invalid ${what}: unable to parse url`);
  }
  if (!parsed.hostname) throw badRequest(`invalid ${what}: missing host`);
  return raw;
}

/** Queue, schedule and URL-group names: `[A-Za-z0-9._-]`. */
export function validateName(name: string, what: string): string {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(name)) throw badRequest(`invalid ${what}: only alphanumerics, '.', '_' and '-' are allowed`);
  return name;
}
