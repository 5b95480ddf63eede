import type { Queryable } from '../db/executor.ts';
import { badRequest } from '../errors.ts';
import { validateUrl } from './validateUrl.ts';

export interface Target {
  url: string;
  topicName?: string;
  endpointName?: string;
}

/** A destination is an http(s) URL, or the name of a URL group (one target per endpoint). */
export async function resolveDestinations(db: Queryable, destination: string): Promise<{ targets: Target[]; isGroup: boolean }> {
  if (/^https?:\/\//i.test(destination) || !/^[A-Za-z0-9._-]+$/.test(destination)) {
    return { targets: [{ url: validateUrl(destination) }], isGroup: false };
  }
  const [group] = await db.query<{ endpoints: { name?: string; url: string }[] }>('SELECT endpoints FROM qstash.url_groups WHERE name = $1', [destination]);
  if (!group) return { targets: [{ url: validateUrl(destination) }], isGroup: false };
  if (group.endpoints.length === 0) throw badRequest(`url group ${destination} has no endpoints`);
  const targets = group.endpoints.map((e) => ({ url: e.url, topicName: destination, ...(e.name ? { endpointName: e.name } : {}) }));
  return { targets, isGroup: true };
}
