/** Export formats: RFC 4180 CSV with a header row, or NDJSON (one JSON object per line). */
export type ExportFormat = 'csv' | 'json';

export const EXPORT_CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', json: 'application/x-ndjson; charset=utf-8' } as const satisfies Record<ExportFormat, string>;
export const EXPORT_EXTENSIONS = { csv: 'csv', json: 'ndjson' } as const satisfies Record<ExportFormat, string>;

// Spreadsheet apps run cells starting with these as formulas (CSV injection, OWASP); such
// strings get a leading apostrophe. Numbers are written as numbers and never prefixed.
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field: null/undefined empty, dates ISO 8601, objects as JSON, quoted when needed. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (value instanceof Date) text = value.toISOString();
  else if (typeof value === 'object') text = JSON.stringify(value);
  else if (typeof value === 'string') text = FORMULA_START.test(value) ? `'${value}` : value;
  else text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV record with its CRLF terminator (RFC 4180 §2). */
export const csvRecord = (fields: readonly unknown[]): string => `${fields.map(csvField).join(',')}\r\n`;

/** The text for a batch of rows, or the header (CSV only) when `rows` is null. */
export function formatRows(format: ExportFormat, columns: readonly string[], rows: readonly Record<string, unknown>[] | null): string {
  if (rows === null) return format === 'csv' ? csvRecord(columns) : '';
  let out = '';
  for (const row of rows) {
    if (format === 'csv') out += csvRecord(columns.map((c) => row[c]));
    else out += `${JSON.stringify(Object.fromEntries(columns.map((c) => [c, row[c] ?? null])))}\n`;
  }
  return out;
}
