import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
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
  // Sends are stored one at a time so two concurrent sends with one key cannot both miss the
  // other's key file (a redelivered job can overlap the first delivery).
  let queue: Promise<unknown> = Promise.resolve();

  /** The message already stored under `key`, if it is still within the window. */
  async function claimed(keyFile: string): Promise<KeyRecord | undefined> {
    try {
      const record = JSON.parse(await readFile(keyFile, 'utf8')) as KeyRecord; // written by store() below
      return Date.now() - Date.parse(record.storedAt) < IDEMPOTENCY_WINDOW_MS ? record : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async function store(message: EmailMessage): Promise<{ id: string }> {
    await mkdir(keysDir, { recursive: true });
    const keyFile = join(keysDir, `${createHash('sha256').update(message.idempotencyKey).digest('hex')}.json`);
    const existing = await claimed(keyFile);
    if (existing) {
      logger?.info({ mailId: existing.id, file: existing.file }, '[email] Duplicate idempotency key, kept the stored message');
      return { id: existing.id };
    }

    lastStamp = Math.max(Date.now(), lastStamp + 1);
    const id = randomUUID();
    const file = `${fileStamp(lastStamp)}_${id}.json`;
    const mail: StoredMail = { id, storedAt: new Date(lastStamp).toISOString(), ...message };
    // Write then rename, so list() never reads a half-written message.
    const tmp = join(dir, `.${file}.tmp`);
    await writeFile(tmp, `${JSON.stringify(mail, null, 2)}\n`);
    await rename(tmp, join(dir, file));
    const record: KeyRecord = { id, file, storedAt: mail.storedAt };
    await writeFile(keyFile, JSON.stringify(record));
    logger?.info({ mailId: id, file: join(dir, file), recipientDomain: recipientDomain(message.to) }, '[email] Stored in dev mailbox');
    return { id };
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
      const stored = queue.then(() => store(message));
      queue = stored.catch(() => undefined);
      return stored;
    },
  };
}
