/** Dates in the viewer's zone (or `timeZone`, when it is one the browser knows), to the second; durations in ms / s / min. */
export function formatTime(date: Date | null | undefined, timeZone?: string | null): string {
  if (!date) return '—';
  try {
    return date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium', ...(timeZone ? { timeZone, timeZoneName: 'short' } : {}) });
  } catch {
    return date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
  }
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

export const formatAge = (date: Date) => formatDuration(Math.max(0, Date.now() - date.getTime()));

export const prettyJson = (value: unknown) => (value === undefined ? '' : JSON.stringify(value, null, 2));

/** `<input type="datetime-local">` value ↔ Date (the viewer's zone). */
export function toLocalInput(date: Date | undefined): string {
  if (!date) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}
export const fromLocalInput = (value: string) => (value ? new Date(value) : undefined);

/** Leaves of two JSON values that differ: `path: before → after`. */
export function jsonDiff(before: unknown, after: unknown, path = ''): { path: string; before: unknown; after: unknown }[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (isObject(before) && isObject(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => jsonDiff(before[key], after[key], path ? `${path}.${key}` : key));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path: path || '(payload)', before, after }];
}
