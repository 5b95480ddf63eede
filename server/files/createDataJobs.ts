import { resolve } from 'node:path';
import { createCleanupHandler } from '../cleanup/createCleanupHandler.ts';
import type { Db } from '../db/database.ts';
import { createDefaultExportRegistry } from '../exports/createDefaultExportRegistry.ts';
import { createExportHandler } from '../exports/createExportHandler.ts';
import type { ExportRegistry } from '../exports/exportRegistry.ts';
import { resolveExport } from '../exports/resolveExport.ts';
import type { PayloadAccess, PayloadChecks } from '../jobs/deps.ts';
import type { HandlerRegistry } from '../jobs/handlers.ts';
import type { Logger } from '../logger.ts';
import { createReportHandler } from '../reports/createReportHandler.ts';
import { createLocalFileStorage } from './createLocalFileStorage.ts';
import type { FileStorage } from './fileStorage.ts';
import type { FilesDeps } from './filesDeps.ts';

export interface DataJobsOptions {
  db: Db;
  log: Logger;
  publicUrl: string;
  authSecret: string;
  /** Local directory for generated files. Default `.data/files` (main.ts: `<DATA_DIR>/files`). */
  filesDir?: string | undefined;
  /** Another storage than the local disk (object storage …); overrides `filesDir`. */
  storage?: FileStorage | undefined;
  /** Export entity types. Default the built-ins: `jobs`, `webhook-events`, `billing-records`, `users`. */
  exportRegistry?: ExportRegistry | undefined;
}

/**
 * The export, report and cleanup job types with what they share: the file storage, the files
 * table behind downloads, and the export registry (also checked at enqueue time, with its access).
 */
export function createDataJobs(options: DataJobsOptions): {
  files: FilesDeps;
  handlers: Pick<HandlerRegistry, 'export-data' | 'generate-report' | 'cleanup-old-data'>;
  payloadChecks: PayloadChecks;
  payloadAccess: PayloadAccess;
} {
  const registry = options.exportRegistry ?? createDefaultExportRegistry();
  const files: FilesDeps = {
    db: options.db,
    storage: options.storage ?? createLocalFileStorage(options.filesDir ?? resolve('.data', 'files')),
    log: options.log,
    publicUrl: options.publicUrl,
    authSecret: options.authSecret,
  };
  return {
    files,
    handlers: {
      'export-data': createExportHandler({ files, registry }),
      'generate-report': createReportHandler(files),
      'cleanup-old-data': createCleanupHandler(files),
    },
    // An unknown entity type or bad filters is BAD_REQUEST at enqueue, not a job that fails later.
    payloadChecks: { 'export-data': (payload) => void resolveExport(registry, payload) },
    // Each entity declares who may export it; an unknown one is left to payloadChecks (BAD_REQUEST).
    payloadAccess: { 'export-data': ({ entityType }) => (registry.get(entityType)?.access === 'admin' ? `export entity "${entityType}"` : undefined) },
  };
}
