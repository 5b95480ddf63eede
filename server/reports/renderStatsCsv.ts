import { csvRecord } from '../exports/formatRows.ts';
import type { JobStats } from './computeJobStats.ts';

/**
 * The stats as one tidy CSV table, `section,key,metric,value`: one number per record, so any
 * spreadsheet or dataframe can pivot it (sections: summary, status, type, daily).
 */
export function renderStatsCsv(stats: JobStats): string {
  const records: unknown[][] = [['section', 'key', 'metric', 'value']];
  for (const metric of ['total', 'completed', 'failed', 'successRate', 'avgDurationMs', 'p95DurationMs'] as const) {
    records.push(['summary', '', metric, stats[metric]]);
  }
  for (const [status, n] of Object.entries(stats.byStatus)) records.push(['status', status, 'total', n]);
  for (const t of stats.byType) {
    for (const metric of ['total', 'completed', 'failed', 'successRate', 'avgDurationMs', 'p95DurationMs'] as const) {
      records.push(['type', t.type, metric, t[metric]]);
    }
  }
  for (const d of stats.daily) {
    for (const metric of ['total', 'completed', 'failed'] as const) records.push(['daily', d.date, metric, d[metric]]);
  }
  return records.map(csvRecord).join('');
}
