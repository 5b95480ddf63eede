import { Readable } from 'node:stream';
import type { Db } from '../db/database.ts';
import { storeGeneratedFile } from '../files/storeGeneratedFile.ts';
import type { FilesDeps } from '../files/filesDeps.ts';
import { NonRetryableJobError } from '../jobs/errors.ts';
import type { HandlerContext, JobHandler } from '../jobs/handlers.ts';
import type { ExportCursor, ExportEntity, ExportQuery, ExportRegistry } from './exportRegistry.ts';
import { EXPORT_CONTENT_TYPES, EXPORT_EXTENSIONS, formatRows, type ExportFormat } from './formatRows.ts';
import { resolveExport } from './resolveExport.ts';

export interface ExportHandlerOptions {
  files: FilesDeps;
  registry: ExportRegistry;
  /** Rows per keyset page. Default 1,000. */
  pageSize?: number;
}

/** What an `export-data` job stores as its result. */
export interface ExportResult {
  entityType: string;
  format: ExportFormat;
  rowCount: number;
  bytes: number;
  fileId: string;
  /** Signed link, valid 24 h (or until the file expires, if sooner). */
  downloadUrl: string;
  /** When cleanup deletes the file. */
  expiresAt: string;
}

/**
 * Streams the organization's rows of an entity type, page by page, through a Node stream
 * pipeline into storage: memory holds about one page whatever the export's size.
 */
export function createExportHandler(options: ExportHandlerOptions): JobHandler<'export-data'> {
  const pageSize = options.pageSize ?? 1_000;
  return async (payload, ctx): Promise<ExportResult> => {
    // Scoped to the job's organization only; a server-side job without one has nothing to export.
    if (ctx.organizationId === null) throw new NonRetryableJobError('export-data needs an organization: server-side exports are refused');
    const { entity, filters } = resolveExport(options.registry, payload);
    const query = { organizationId: ctx.organizationId, filters };
    const db = options.files.db;
    const total = await entity.count(db, query);
    ctx.log.info({ entityType: payload.entityType, format: payload.format, total }, '[exports] Export started');

    let rowCount = 0;
    const onPage = async (rows: number) => {
      rowCount += rows;
      await ctx.progress(total === 0 ? 1 : rowCount / total, `${rowCount} of ${total} rows`);
    };
    const lines = exportChunks({ db, entity, query, format: payload.format, pageSize, signal: ctx.signal, onPage });
    const { file, downloadUrl } = await storeGeneratedFile(options.files, {
      kind: 'export',
      jobId: ctx.jobId,
      organizationId: ctx.organizationId,
      format: payload.format,
      extension: EXPORT_EXTENSIONS[payload.format],
      contentType: EXPORT_CONTENT_TYPES[payload.format],
      baseName: `export-${payload.entityType}-${ctx.jobId}`,
      rowCount: () => rowCount,
      // Byte mode, so the 16 KiB high-water mark bounds what is read ahead of the disk.
      source: Readable.from(lines, { objectMode: false }),
    });
    ctx.log.info({ entityType: payload.entityType, rowCount, bytes: file.bytes, fileId: file.id }, '[exports] Export completed');
    return { entityType: payload.entityType, format: payload.format, rowCount, bytes: file.bytes, fileId: file.id, downloadUrl, expiresAt: file.expiresAt.toISOString() };
  };
}

interface ChunkSource {
  db: Db;
  entity: ExportEntity;
  query: ExportQuery<unknown>;
  format: ExportFormat;
  pageSize: number;
  signal: HandlerContext['signal'];
  onPage: (rows: number) => Promise<void>;
}

/** The file's bytes: the header, then one chunk per page. Pulled only as fast as storage writes. */
async function* exportChunks(s: ChunkSource): AsyncGenerator<Buffer> {
  const header = formatRows(s.format, s.entity.columns, null);
  if (header) yield Buffer.from(header);
  let cursor: ExportCursor | null = null;
  do {
    s.signal.throwIfAborted();
    const page = await s.entity.page(s.db, s.query, cursor, s.pageSize);
    if (page.rows.length > 0) yield Buffer.from(formatRows(s.format, s.entity.columns, page.rows));
    await s.onPage(page.rows.length);
    cursor = page.cursor;
  } while (cursor);
}
