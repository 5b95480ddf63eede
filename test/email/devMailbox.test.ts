import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDevMailbox, type DevMailbox } from '../../server/email/devMailbox.ts';
import type { EmailMessage } from '../../server/email/emailSender.ts';

const message = (overrides: Partial<EmailMessage> = {}): EmailMessage => ({
  from: 'jobwire <noreply@jobwire.local>',
  to: 'ada@example.com',
  subject: 'Hello',
  html: '<p>Hello</p>',
  text: 'Hello',
  idempotencyKey: 'key-1',
  ...overrides,
});

describe('createDevMailbox', () => {
  let root: string;
  let mailbox: DevMailbox;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'jobwire-mailbox-'));
    mailbox = createDevMailbox({ dir: join(root, 'mailbox') });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('lists nothing before the first send, even without the folder', async () => {
    expect(mailbox.dir).toBe(join(root, 'mailbox'));
    expect(await mailbox.list()).toEqual([]);
  });

  it('stores each message as a JSON file and lists them oldest first', async () => {
    const first = await mailbox.send(message({ subject: 'first', idempotencyKey: 'a' }));
    const second = await mailbox.send(message({ subject: 'second', idempotencyKey: 'b', replyTo: 'help@example.com' }));
    const third = await mailbox.send(message({ subject: 'third', idempotencyKey: 'c' }));

    const mails = await mailbox.list();
    expect(mails.map((m) => m.subject)).toEqual(['first', 'second', 'third']);
    expect(mails.map((m) => m.id)).toEqual([first.id, second.id, third.id]);
    expect(mails[1]).toMatchObject({ ...message({ subject: 'second', idempotencyKey: 'b', replyTo: 'help@example.com' }), id: second.id });
    expect(Date.parse(mails[0]?.storedAt ?? '')).not.toBeNaN();

    const files = (await readdir(mailbox.dir)).filter((f) => f.endsWith('.json'));
    // Names sort by time: `<stamp>_<id>.json`.
    expect(files.toSorted().map((f) => f.slice(-41, -5))).toEqual([first.id, second.id, third.id]);
  });

  it('keeps one message per idempotency key, like Resend', async () => {
    const a = await mailbox.send(message({ subject: 'once' }));
    const b = await mailbox.send(message({ subject: 'once' }));
    expect(b.id).toBe(a.id);
    expect(await mailbox.list()).toHaveLength(1);
  });

  it('dedupes concurrent sends with one key', async () => {
    const ids = await Promise.all([1, 2, 3].map(() => mailbox.send(message())));
    expect(new Set(ids.map((r) => r.id)).size).toBe(1);
    expect(await mailbox.list()).toHaveLength(1);
  });

  it('remembers keys across mailbox instances on the same folder', async () => {
    const a = await mailbox.send(message());
    const again = createDevMailbox({ dir: mailbox.dir });
    expect((await again.send(message())).id).toBe(a.id);
    expect(await again.list()).toHaveLength(1);
  });

  it('finds the newest matching message', async () => {
    await mailbox.send(message({ to: 'ada@example.com', subject: 'old', idempotencyKey: '1' }));
    await mailbox.send(message({ to: 'grace@example.com', subject: 'other', idempotencyKey: '2' }));
    await mailbox.send(message({ to: 'ada@example.com', subject: 'new', idempotencyKey: '3' }));
    expect((await mailbox.find((m) => m.to === 'ada@example.com'))?.subject).toBe('new');
    expect(await mailbox.find((m) => m.to === 'nobody@example.com')).toBeUndefined();
  });

  it('refuses to store when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(mailbox.send(message(), { signal: controller.signal })).rejects.toThrow();
    expect(await mailbox.list()).toEqual([]);
  });
});
