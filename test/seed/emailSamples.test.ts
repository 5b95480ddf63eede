/**
 * Every email sample of the seed documents (usage guide, "Email Jobs Deep Dive", API reference),
 * run as written against a started server; only the import path differs from the seed's.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobExecutions } from '../../server/db/schema.ts';
import {
  sendPaymentFailedEmailAsync,
  sendPasswordResetEmailAsync,
  sendSubscriptionCreatedEmailAsync,
  sendTeamInvitationEmailAsync,
  sendWelcomeEmail,
  sendWelcomeEmailAsync,
} from '../../server/email/emailHelpers.ts';
import { startTestServer, trpcCode, waitFor, type TestServer } from '../support/testServer.ts';

let testServer: TestServer;
beforeAll(async () => {
  testServer = await startTestServer();
});
afterAll(async () => testServer?.stop());

const db = () => testServer.server.database.db;
const mailbox = () => testServer.server.mailbox!;

/** Waits for the job to complete; resolves with its row. */
async function completedJob(jobId: string) {
  const row = await waitFor(async () => {
    const [found] = await db().select().from(jobExecutions).where(eq(jobExecutions.id, jobId));
    return found && ['completed', 'failed', 'cancelled'].includes(found.status) ? found : undefined;
  });
  expect(row.status).toBe('completed');
  return row;
}

/** The message the job sent: its result names the mailbox message. */
async function mailOf(jobId: string) {
  const { result } = await completedJob(jobId);
  const { messageId } = result as { messageId: string };
  const mail = await mailbox().find((m) => m.id === messageId);
  expect(mail).toBeDefined();
  return mail!;
}

describe('the usage guide’s async samples', () => {
  it('welcome', async () => {
    const jobId = await sendWelcomeEmailAsync(
      {
        to: 'user@example.com',
        recipientName: 'John Doe',
      },
      { userId: 123 },
    );
    const mail = await mailOf(jobId);
    expect(mail.to).toBe('user@example.com');
    expect(mail.text).toContain('John Doe');
    expect((await completedJob(jobId)).userId).toBe('123');
  });

  it('password reset', async () => {
    const jobId = await sendPasswordResetEmailAsync(
      {
        to: 'user@example.com',
        recipientName: 'John Doe',
        resetUrl: 'https://example.com/reset/token',
      },
      { userId: 123 },
    );
    const mail = await mailOf(jobId);
    expect(mail.text).toContain('Hi John Doe,');
    expect(mail.text).toContain('https://example.com/reset/token');
    expect(mail.html).toContain('href="https://example.com/reset/token"');
  });

  it('team invitation', async () => {
    const jobId = await sendTeamInvitationEmailAsync(
      {
        to: 'invited@example.com',
        recipientName: 'Jane Doe',
        inviterName: 'John Doe',
        organizationName: 'Acme Corp',
        invitationUrl: 'https://example.com/invite/token',
      },
      { userId: 123, organizationId: 456 },
    );
    const mail = await mailOf(jobId);
    expect(mail.to).toBe('invited@example.com');
    expect(mail.subject).toBe('John Doe invited you to join Acme Corp');
    for (const value of ['Hi Jane Doe,', 'John Doe', 'Acme Corp', 'https://example.com/invite/token']) expect(mail.text).toContain(value);
    expect(await completedJob(jobId)).toMatchObject({ userId: '123', organizationId: 456 });
  });

  it('subscription created', async () => {
    const jobId = await sendSubscriptionCreatedEmailAsync(
      {
        to: 'user@example.com',
        recipientName: 'John Doe',
        planName: 'Pro Plan',
        amount: '29.99',
        dashboardUrl: 'https://example.com/app/general',
      },
      { userId: 123, organizationId: 456 },
    );
    const mail = await mailOf(jobId);
    for (const value of ['John Doe', 'Pro Plan', 'Amount: 29.99', 'https://example.com/app/general']) expect(mail.text).toContain(value);
  });

  it('payment failed', async () => {
    const jobId = await sendPaymentFailedEmailAsync(
      {
        to: 'user@example.com',
        recipientName: 'John Doe',
        amountDue: '29.99',
        paymentDetailsUrl: 'https://example.com/app/settings/billing',
      },
      { userId: 123, organizationId: 456 },
    );
    const mail = await mailOf(jobId);
    expect(mail.subject).toBe('Action needed: your payment of 29.99 failed');
    for (const value of ['John Doe', 'Amount due: 29.99', 'https://example.com/app/settings/billing']) expect(mail.text).toContain(value);
  });
});

describe('the deep dive’s sync sample and migration guide', () => {
  it('sendWelcomeEmail blocks until the email is sent', async () => {
    const before = (await mailbox().list()).length;
    const { id } = await sendWelcomeEmail({
      to: 'user@example.com',
      recipientName: 'John Doe',
    });
    // Sent by the time the call resolves: no job, no waiting.
    expect(await mailbox().list()).toHaveLength(before + 1);
    const mail = await mailbox().find((m) => m.id === id);
    expect(mail).toMatchObject({ to: 'user@example.com', subject: 'Welcome, John Doe' });
  });

  it('sendTeamInvitationEmailAsync with the migration guide’s variables', async () => {
    const invitedUserEmail = 'grace@example.com';
    const invitedUser = { name: 'Grace Hopper' };
    const currentUser = { id: 42, name: 'Ada Lovelace' };
    const org = { id: 7, name: 'Analytical Engines' };
    const inviteLink = 'https://example.com/invite/abc123';

    const jobId = await sendTeamInvitationEmailAsync(
      {
        to: invitedUserEmail,
        recipientName: invitedUser.name,
        inviterName: currentUser.name,
        organizationName: org.name,
        invitationUrl: inviteLink,
      },
      {
        userId: currentUser.id,
        organizationId: org.id,
      },
    );
    const mail = await mailOf(jobId);
    expect(mail.to).toBe('grace@example.com');
    for (const value of ['Grace Hopper', 'Ada Lovelace', 'Analytical Engines', inviteLink]) expect(mail.text).toContain(value);
    expect(await completedJob(jobId)).toMatchObject({ userId: '42', organizationId: 7 });
  });
});

describe('the send-email payload through jobs.enqueue', () => {
  it('accepts the setup example’s { template, to, data: { recipientName } }', async () => {
    const client = await testServer.client();
    const { jobId } = await client.jobs.enqueue.mutate({
      type: 'send-email',
      payload: { template: 'welcome', to: 'test@example.com', data: { recipientName: 'Test User' } },
    });
    const mail = await mailOf(jobId);
    expect(mail).toMatchObject({ to: 'test@example.com', subject: 'Welcome, Test User' });
  });

  it('accepts welcome with empty data and with no data at all', async () => {
    const client = await testServer.client();
    for (const payload of [
      { template: 'welcome', to: 'user@example.com', data: {} },
      { to: 'test@example.com', template: 'welcome' },
    ] as const) {
      const { jobId } = await client.jobs.enqueue.mutate({ type: 'send-email', payload });
      const mail = await mailOf(jobId);
      expect(mail.subject).toBe('Welcome');
      expect(mail.text).toContain('Hi there,');
    }
  });

  it('refuses a misspelt field with BAD_REQUEST naming it', async () => {
    const client = await testServer.client();
    const before = await db().$count(jobExecutions);
    const error = await client.jobs.enqueue
      // @ts-expect-error the typo is a compile error too; the server must refuse it on its own
      .mutate({ type: 'send-email', payload: { template: 'welcome', to: 'test@example.com', data: { recipentName: 'Test User' } } })
      .catch((e: unknown) => e);
    expect(trpcCode(error)).toBe('BAD_REQUEST');
    expect((error as Error).message).toContain('Unknown welcome field(s) recipentName; its fields are recipientName, loginUrl');
    expect(await db().$count(jobExecutions)).toBe(before);
  });
});
