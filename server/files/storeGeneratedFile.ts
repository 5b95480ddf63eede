import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { generatedFiles, type GeneratedFileKind, type GeneratedFileRow } from '../db/filesSchema.ts';
import { linkToFile } from './fileLinks.ts';
import { DEFAULT_FILE_TTL_MS, type FilesDeps } from './filesDeps.ts';

export interface StoreGeneratedFileInput {
  kind: GeneratedFileKind;
  jobId: string;
  organizationId: number;
  format: string;
  extension: string;
  contentType: string;
  /** Offered to the browser in Content-Disposition, without the extension. */
  baseName: string;
  /** Data rows written, read once `source` has been drained (exports). */
  rowCount?: () => number;
  /** The bytes, streamed: never held in memory whole. */
  source: Readable;
}

export interface StoredFile {
  file: GeneratedFileRow;
  /** Absolute signed link, valid for `linkTtlMs` (24 h) or until the file expires. */
  downloadUrl: string;
}

/**
 * Streams a job's output to storage and records it. One file per job: a retried attempt writes
 * the same key (atomically replaced) and updates the same row, so retries leave no orphans.
 */
export async function storeGeneratedFile(deps: FilesDeps, input: StoreGeneratedFileInput): Promise<StoredFile> {
  const storageKey = `${input.kind}s/${input.jobId}.${input.extension}`;
  const { bytes } = await deps.storage.write(storageKey, input.source);
  const now = Date.now();
  const values = {
    organizationId: input.organizationId,
    kind: input.kind,
    storageKey,
    format: input.format,
    contentType: input.contentType,
    fileName: `${input.baseName}.${input.extension}`,
    bytes,
    rowCount: input.rowCount?.() ?? null,
    createdAt: new Date(now),
    expiresAt: new Date(now + (deps.fileTtlMs ?? DEFAULT_FILE_TTL_MS)),
  };
  const [file] = await deps.db
    .insert(generatedFiles)
    .values({ id: randomUUID(), jobId: input.jobId, ...values })
    .onConflictDoUpdate({ target: generatedFiles.jobId, set: values })
    .returning();
  if (!file) throw new Error('generated_files upsert returned no row'); // an upsert always returns its row
  const { downloadUrl } = linkToFile({ publicUrl: deps.publicUrl, secret: deps.authSecret, ttlMs: deps.linkTtlMs }, file, now);
  return { file, downloadUrl };
}
