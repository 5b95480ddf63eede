import { createHash, randomUUID } from 'node:crypto';
import { access, link, mkdir, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';
import { recipientDomain, type EmailMessage, type EmailSender } from './emailSender.ts';

/** A message as the dev mailbox keeps it: one JSON file per message. */
export interface StoredMail extends EmailMessage {
  id: string;
  /** ISO time the message was stored. */
  storedAt: string;
}

export interface DevMailbox extends EmailSender {
  /** The folder holding one `<time>_<id>.json` per message. */
  readonly dir: string;
  /** Every stored message, oldest first. */
  list(): Promise<StoredMail[]>;
  /** The newest stored message matching `predicate`. */
  find(predicate: (mail: StoredMail) => boolean): Promise<StoredMail | undefined>;
}

export interface DevMailboxOptions {
  /** Where messages are written; the app passes `<DATA_DIR>/mailbox`. Created on first send. */
  dir: string;
  logger?: Logger;
}

/** Like Resend, an idempotency key is remembered for 24 hours. */
const IDEMPOTENCY_WINDOW_MS = 24 * 3600_000;

interface KeyRecord {
  id: string;
  file: string;
  storedAt: string;
}

/** `2025-03-05T14:03:22.123Z` → `20250305T140322123Z`: sortable and safe on every file system. */
const fileStamp = (ms: number) => new Date(ms).toISOString().replace(/[-:.]/g, '');

const isNotFound = (error: unknown) => error instanceof Error && 'code' in error && error.code === 'ENOENT';

/** An `EmailSender` that writes messages to disk instead of sending them, for development and tests. */
export function createDevMailbox(options: DevMailboxOptions): DevMailbox {
  const { dir, logger } = options;
  const keysDir = join(dir, 'idempotency');
  // Strictly increasing, so two messages stored in the same millisecond still sort in send order.
  let lastStamp = 0;
  // Concurrent sends with one key share one store (a redelivered job can overlap its first
  // delivery); sends with different keys run side by side.
  const storing = new Map<string, Promise<{ id: string }>>();

  /** The key's record, if it is still within the window. */
  async function claimed(keyFile: string): Promise<KeyRecord | undefined> {
    try {
      const record = JSON.parse(await readFile(keyFile, 'utf8')) as KeyRecord; // written by claim() below
      return Date.now() - Date.parse(record.storedAt) < IDEMPOTENCY_WINDOW_MS ? record : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Writes the key's record, naming the message's id and file, before the message exists: a crash
   * after this point completes that same message on the next send, never a second one. Atomic
   * (written aside, then linked into place, which fails if another process got there first).
   */
  async function claim(keyFile: string): Promise<{ record: KeyRecord; fresh: boolean }> {
    const existing = await claimed(keyFile);
    if (existing) return { record: existing, fresh: false };
    lastStamp = Math.max(Date.now(), lastStamp + 1);
    const id = randomUUID();
    const record: KeyRecord = { id, file: `${fileStamp(lastStamp)}_${id}.json`, storedAt: new Date(lastStamp).toISOString() };
    const tmp = `${keyFile}.${id}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(record)); // a full disk fails here: the finally removes what was written
      await link(tmp, keyFile);
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
      // Another process claimed the key meanwhile, or an expired record is in the way.
      const other = await claimed(keyFile);
      if (other) return { record: other, fresh: false };
      await rename(tmp, keyFile);
      return { record, fresh: true };
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    return { record, fresh: true };
  }

  async function store(message: EmailMessage, keyHash: string): Promise<{ id: string }> {
    await mkdir(keysDir, { recursive: true });
    const { record, fresh } = await claim(join(keysDir, `${keyHash}.json`));
    const path = join(dir, record.file);
    if (!fresh && (await exists(path))) {
      logger?.info({ mailId: record.id, file: record.file }, '[email] Duplicate idempotency key, kept the stored message');
      return { id: record.id };
    }
    const mail: StoredMail = { id: record.id, storedAt: record.storedAt, ...message };
    // Write then rename, so list() never reads a half-written message; the name comes from the
    // record, so completing a crashed send replaces nothing and adds nothing.
    const tmp = join(dir, `.${record.file}.${randomUUID()}.tmp`);
    try {
      await writeFile(tmp, `${JSON.stringify(mail, null, 2)}\n`);
      await rename(tmp, path);
    } catch (error) {
      // A full disk: nothing half-written stays behind to hold space; the retried send writes it anew.
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    logger?.info({ mailId: record.id, file: path, recipientDomain: recipientDomain(message.to) }, '[email] Stored in dev mailbox');
    return { id: record.id };
  }

  async function list(): Promise<StoredMail[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
    const files = names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
    // Files this mailbox wrote, so the shape is StoredMail.
    return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as StoredMail));
  }

  return {
    dir,
    list,
    async find(predicate) {
      return (await list()).findLast(predicate);
    },
    async send(message, { signal } = {}) {
      signal?.throwIfAborted();
      const keyHash = createHash('sha256').update(message.idempotencyKey).digest('hex');
      const running = storing.get(keyHash);
      if (running) return running;
      const stored = store(message, keyHash).finally(() => storing.delete(keyHash));
      storing.set(keyHash, stored);
      return stored;
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}
