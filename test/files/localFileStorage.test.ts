import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalFileStorage } from '../../server/files/createLocalFileStorage.ts';
import { checkFileLink, signFileLink } from '../../server/files/fileLinks.ts';

const dir = mkdtempSync(join(tmpdir(), 'jobwire-storage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const storage = createLocalFileStorage(dir);

describe('local file storage', () => {
  it('streams a file in, counts its bytes, reads it back and replaces it atomically', async () => {
    expect(await storage.write('exports/a.csv', Readable.from(['héllo,', 'world\r\n']))).toEqual({ bytes: 14 });
    expect(await text(await storage.read('exports/a.csv'))).toBe('héllo,world\r\n');
    expect(await storage.exists('exports/a.csv')).toBe(true);
    await storage.write('exports/a.csv', Readable.from(['second']));
    expect(await text(await storage.read('exports/a.csv'))).toBe('second');
    expect(readdirSync(join(dir, 'exports'))).toEqual(['a.csv']); // no temporary files left
  });

  it('leaves nothing behind when the source fails mid-way', async () => {
    async function* failing() {
      yield 'partial';
      throw new Error('database went away');
    }
    await expect(storage.write('exports/b.csv', Readable.from(failing()))).rejects.toThrow('database went away');
    expect(await storage.exists('exports/b.csv')).toBe(false);
    expect(readdirSync(join(dir, 'exports'))).toEqual(['a.csv']);
  });

  it('reports a missing file as ENOENT and deletes idempotently', async () => {
    await expect(storage.read('exports/none.csv')).rejects.toMatchObject({ code: 'ENOENT' });
    await storage.delete('exports/a.csv');
    await storage.delete('exports/a.csv');
    expect(await storage.exists('exports/a.csv')).toBe(false);
  });

  it('refuses keys that could escape its directory', async () => {
    for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', '.', 'a/./b', 'a\\b', '']) {
      await expect(storage.write(key, Readable.from(['x']))).rejects.toThrow(/Invalid storage key/);
    }
  });
});

describe('signed download links', () => {
  const secret = 'link-secret-0123456789abcdef0123456789';
  const fileId = '3f1c2a8e-7d1b-4c55-9a0e-1d2b3c4d5e6f';
  const parts = (url: string) => Object.fromEntries(new URL(url).searchParams);

  it('accepts its own link until it expires, and nothing altered', () => {
    const url = signFileLink({ publicUrl: 'https://jobs.example.com', fileId, expiresAt: new Date(Date.now() + 60_000), secret });
    expect(url).toMatch(/^https:\/\/jobs\.example\.com\/api\/files\/3f1c2a8e-[^?]+\?expires=\d+&sig=[A-Za-z0-9_-]+$/);
    const { expires, sig } = parts(url);
    expect(checkFileLink({ fileId, expires, sig, secret })).toBe('valid');
    expect(checkFileLink({ fileId, expires, sig, secret, now: Date.now() + 120_000 })).toBe('expired');
    expect(checkFileLink({ fileId: fileId.replace('3f', '4f'), expires, sig, secret })).toBe('invalid');
    expect(checkFileLink({ fileId, expires: String(Number(expires) + 1), sig, secret })).toBe('invalid');
    expect(checkFileLink({ fileId, expires, sig, secret: `${secret}x` })).toBe('invalid');
    expect(checkFileLink({ fileId, expires, sig: undefined, secret })).toBe('invalid');
    expect(checkFileLink({ fileId, expires: ['1', '2'], sig, secret })).toBe('invalid');
  });
});
