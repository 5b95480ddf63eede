import { Readable } from 'node:stream';
import type { FilesDeps } from '../files/filesDeps.ts';
import { storeGeneratedFile } from '../files/storeGeneratedFile.ts';
import { NonRetryableJobError } from '../jobs/errors.ts';
import type { JobHandler } from '../jobs/handlers.ts';
import { buildReport, type ReportType } from './buildReport.ts';
import { computeJobStats, type JobStats } from './computeJobStats.ts';
import { renderReportPdf } from './renderReportPdf.ts';
import { renderStatsCsv } from './renderStatsCsv.ts';

type ReportFormat = 'pdf' | 'csv' | 'json';

const OUTPUT = {
  pdf: { extension: 'pdf', contentType: 'application/pdf' },
  csv: { extension: 'csv', contentType: 'text/csv; charset=utf-8' },
  json: { extension: 'json', contentType: 'application/json; charset=utf-8' },
} as const satisfies Record<ReportFormat, { extension: string; contentType: string }>;

/** What a `generate-report` job stores as its result. */
export interface ReportResult {
  reportType: ReportType;
  format: ReportFormat;
  bytes: number;
  fileId: string;
  /** Signed link, valid 24 h (or until the file expires, if sooner). */
  downloadUrl: string;
  expiresAt: string;
  summary: Pick<JobStats, 'total' | 'completed' | 'failed' | 'successRate' | 'avgDurationMs' | 'p95DurationMs'> & { days: number };
}

/** Computes the organization's job statistics for the range and stores them as PDF, CSV or JSON. */
export function createReportHandler(files: FilesDeps): JobHandler<'generate-report'> {
  return async (payload, ctx): Promise<ReportResult> => {
    if (ctx.organizationId === null) throw new NonRetryableJobError('generate-report needs an organization: server-side reports are refused');
    const stats = await computeJobStats(files.db, { organizationId: ctx.organizationId, startDate: payload.startDate, endDate: payload.endDate });
    await ctx.progress(0.5, 'statistics computed');
    ctx.signal.throwIfAborted();
    const source =
      payload.format === 'pdf'
        ? await renderReportPdf(buildReport(payload.reportType, stats))
        : Readable.from([Buffer.from(payload.format === 'csv' ? renderStatsCsv(stats) : `${JSON.stringify({ reportType: payload.reportType, ...stats }, null, 2)}\n`)]);
    const { file, downloadUrl } = await storeGeneratedFile(files, {
      kind: 'report',
      jobId: ctx.jobId,
      organizationId: ctx.organizationId,
      format: payload.format,
      ...OUTPUT[payload.format],
      baseName: `${payload.reportType}-${payload.startDate}-${payload.endDate}`,
      source,
    });
    const { total, completed, failed, successRate, avgDurationMs, p95DurationMs } = stats;
    ctx.log.info({ reportType: payload.reportType, format: payload.format, bytes: file.bytes, fileId: file.id }, '[reports] Report generated');
    return {
      reportType: payload.reportType,
      format: payload.format,
      bytes: file.bytes,
      fileId: file.id,
      downloadUrl,
      expiresAt: file.expiresAt.toISOString(),
      summary: { total, completed, failed, successRate, avgDurationMs, p95DurationMs, days: stats.daily.length },
    };
  };
}
