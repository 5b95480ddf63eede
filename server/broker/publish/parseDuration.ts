const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/gy;

/**
 * Parses QStash durations (`10s`, `5m`, `1d10h30m`) and Go durations (`6m5s`, `1.5s`, `300ms`).
 * A bare number means seconds. Returns milliseconds, or undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  let total = 0;
  let index = 0;
  PART.lastIndex = 0;
  while (index < value.length) {
    PART.lastIndex = index;
    const match = PART.exec(value);
    if (!match) return undefined;
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number); // the regex only matches known units
    index = PART.lastIndex;
  }
  return Math.round(total);
}
