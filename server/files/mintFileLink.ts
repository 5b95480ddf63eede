import type { FileLink } from '../../shared/filesApi.ts';
import { JobError } from '../jobs/errors.ts';
import { linkToFile } from './fileLinks.ts';
import { findGeneratedFile } from './findGeneratedFile.ts';
import type { FilesDeps } from './filesDeps.ts';

/**
 * A fresh signed download link for a file of `organizationId` (the link in a job's result lasts
 * 24 hours; the file 7 days). Another organization's file is FILE_NOT_FOUND, as a missing one is;
 * a file past its `expires_at` is FILE_EXPIRED.
 */
export async function mintFileLink(deps: FilesDeps, scope: { organizationId: number }, fileId: string): Promise<FileLink> {
  const file = await findGeneratedFile(deps.db, fileId, scope.organizationId);
  if (!file) throw new JobError(`File ${fileId} not found`, 'FILE_NOT_FOUND');
  const now = Date.now();
  if (file.expiresAt.getTime() <= now) throw new JobError(`File ${fileId} has expired`, 'FILE_EXPIRED');
  return { fileId, ...linkToFile({ publicUrl: deps.publicUrl, secret: deps.authSecret, ttlMs: deps.linkTtlMs }, file, now) };
}
