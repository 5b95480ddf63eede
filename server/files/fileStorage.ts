import type { Readable } from 'node:stream';

/**
 * Where generated files' bytes live. Keys are relative slash-separated names
 * (`exports/<jobId>.csv`); implementations must refuse keys that escape their root.
 */
export interface FileStorage {
  /** Streams `source` to `key` (replacing it atomically if present); resolves once it is durable. */
  write(key: string, source: Readable): Promise<{ bytes: number }>;
  /** A stream of the file's bytes; errors with code `ENOENT` if there is none. */
  read(key: string): Promise<Readable>;
  /** Removes the file; a missing file is not an error. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
}

/** Letters, digits, `-`, `_`, `.` in slash-separated segments, none of them `.` or `..`. */
const KEY = /^(?!.*(?:^|\/)\.{1,2}(?:\/|$))[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

export function assertStorageKey(key: string): void {
  if (key.length > 300 || !KEY.test(key)) throw new Error(`Invalid storage key "${key}"`);
}
