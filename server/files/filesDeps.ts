import type { Db } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { FileStorage } from './fileStorage.ts';

/** What storing, linking, downloading and expiring generated files needs. */
export interface FilesDeps {
  db: Db;
  storage: FileStorage;
  log: Logger;
  /** Base of download links (`PUBLIC_URL`). */
  publicUrl: string;
  /** `AUTH_SECRET`: verifies bearer tokens and (through a derived key) signs download links. */
  authSecret: string;
  /** How long a generated file is kept before cleanup deletes it. Default 7 days. */
  fileTtlMs?: number;
  /** How long a signed link is valid. Default 24 h. */
  linkTtlMs?: number;
}

export const DEFAULT_FILE_TTL_MS = 7 * 24 * 3600_000;
