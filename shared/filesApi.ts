import { z } from 'zod';

/** A generated file (export or report): the `fileId` in a job's result. */
export const FileId = z.uuid();

export const FileLinkInput = z.object({ fileId: FileId });

/** A fresh signed download link: anyone holding `downloadUrl` may download until `expiresAt`. */
export interface FileLink {
  fileId: string;
  downloadUrl: string;
  expiresAt: Date;
}
