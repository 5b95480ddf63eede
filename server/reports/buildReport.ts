import type { JobPayload } from '../../shared/catalogue.ts';
import type { JobStats } from './computeJobStats.ts';

export type ReportType = JobPayload<'generate-report'>['reportType'];

export interface ReportTable {
  title: string;
  columns: string[];
  rows: string[][];
}

/** A report laid out independently of its output format (the PDF renders it). */
export interface ReportDocument {
  title: string;
  subtitle: string;
  tables: ReportTable[];
  /** The daily series, drawn as a bar chart. */
  chart: { title: string; labels: string[]; values: number[] };
}

export const formatRate = (rate: number | null) => (rate === null ? 'n/a' : `${(rate * 100).toFixed(1)}%`);
export const formatMs = (ms: number | null) => (ms === null ? 'n/a' : `${Math.round(ms)} ms`);

const TITLES = { 'monthly-analytics': 'Monthly analytics', 'job-summary': 'Job summary' } as const satisfies Record<ReportType, string>;

/**
 * `monthly-analytics`: overview, statuses, the daily chart and the daily table.
 * `job-summary`: overview, per-type counts, success rate and durations, statuses and the chart.
 */
export function buildReport(reportType: ReportType, stats: JobStats): ReportDocument {
  const overview: ReportTable = {
    title: 'Overview',
    columns: ['Metric', 'Value'],
    rows: [
      ['Total jobs', String(stats.total)],
      ['Completed', String(stats.completed)],
      ['Failed', String(stats.failed)],
      ['Success rate', formatRate(stats.successRate)],
      ['Average duration', formatMs(stats.avgDurationMs)],
      ['p95 duration', formatMs(stats.p95DurationMs)],
    ],
  };
  const statuses: ReportTable = {
    title: 'By status',
    columns: ['Status', 'Jobs'],
    rows: Object.entries(stats.byStatus).map(([status, n]) => [status, String(n)]),
  };
  const types: ReportTable = {
    title: 'By job type',
    columns: ['Type', 'Jobs', 'Completed', 'Failed', 'Success rate', 'Average', 'p95'],
    rows: stats.byType.map((t) => [t.type, String(t.total), String(t.completed), String(t.failed), formatRate(t.successRate), formatMs(t.avgDurationMs), formatMs(t.p95DurationMs)]),
  };
  const days: ReportTable = {
    title: 'Daily',
    columns: ['Date (UTC)', 'Jobs', 'Completed', 'Failed'],
    rows: stats.daily.map((d) => [d.date, String(d.total), String(d.completed), String(d.failed)]),
  };
  return {
    title: TITLES[reportType],
    subtitle: `Organization ${stats.organizationId} · ${stats.startDate} to ${stats.endDate} (UTC)`,
    tables: reportType === 'monthly-analytics' ? [overview, statuses, days] : [overview, types, statuses],
    chart: { title: 'Jobs per day', labels: stats.daily.map((d) => d.date), values: stats.daily.map((d) => d.total) },
  };
}
