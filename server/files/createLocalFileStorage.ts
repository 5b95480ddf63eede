import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertStorageKey, type FileStorage } from './fileStorage.ts';

/**
 * Files on the local disk under `dir` (default `<DATA_DIR>/files`). Writes go to a temporary
 * name and are renamed into place, so a reader never sees a half-written file and a retried
 * job replaces its earlier output in one step.
 */
export function createLocalFileStorage(dir: string): FileStorage {
  const pathOf = (key: string) => {
    assertStorageKey(key);
    return join(dir, ...key.split('/'));
  };
  return {
    async write(key, source) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${randomUUID()}.tmp`;
      let bytes = 0;
      const count = new Transform({
        transform(chunk: Buffer | string, _encoding, done) {
          bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
          done(null, chunk);
        },
      });
      try {
        // pipeline() propagates backpressure: the source is read only as fast as the disk takes it.
        await pipeline(source, count, createWriteStream(temporary, { flush: true }));
        await rename(temporary, path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
      return { bytes };
    },
    async read(key) {
      const path = pathOf(key);
      await stat(path); // rejects with ENOENT before any byte is promised to a caller
      return createReadStream(path) as Readable;
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async exists(key) {
      return stat(pathOf(key)).then(
        (s) => s.isFile(),
        () => false,
      );
    },
  };
}
