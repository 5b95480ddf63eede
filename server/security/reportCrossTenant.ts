import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { JobId, ScheduleId } from '../../shared/jobApi.ts';
import { WebhookEventId } from '../../shared/webhookApi.ts';
import { FileId } from '../../shared/filesApi.ts';
import type { Caller } from '../auth/token.ts';
import type { Db } from '../db/database.ts';
import { jobExecutions, jobSchedules } from '../db/schema.ts';
import { webhookEvents } from '../db/webhookSchema.ts';
import { generatedFiles } from '../db/filesSchema.ts';
import { JobError } from '../jobs/errors.ts';
import type { Logger } from '../logger.ts';
import { logSecurityEvent, SECURITY_EVENTS } from './securityEvent.ts';

/** A domain "job, schedule, webhook event or file not found" error. */
export function isNotFoundError(error: unknown): boolean {
  return error instanceof JobError && (error.code === 'JOB_NOT_FOUND' || error.code === 'SCHEDULE_NOT_FOUND' || error.code === 'WEBHOOK_EVENT_NOT_FOUND' || error.code === 'FILE_NOT_FOUND');
}

const Target = z.union([z.object({ jobId: JobId }), z.object({ scheduleId: ScheduleId }), z.object({ webhookEventId: WebhookEventId }), z.object({ fileId: FileId })]);

export interface CrossTenantCheck {
  db: Db;
  log: Logger;
  caller: Caller;
  /** The procedure's NOT_FOUND cause; anything else is ignored. */
  cause: unknown;
  /** The call's raw input, where the id is. */
  input: unknown;
  path: string;
}

/**
 * After a NOT_FOUND, looks the id up once without the tenant filter: when it exists in another
 * organization, logs `security.cross_tenant`. Only NOT_FOUND answers pay for the query, and the
 * caller's answer stays NOT_FOUND either way. Never throws: this is monitoring, not access control.
 */
export async function reportCrossTenant(check: CrossTenantCheck): Promise<void> {
  if (!isNotFoundError(check.cause)) return;
  const target = Target.safeParse(check.input);
  if (!target.success) return;
  try {
    const owner = await ownerOf(check.db, target.data);
    if (owner === undefined || owner === check.caller.organizationId) return;
    logSecurityEvent(
      check.log,
      SECURITY_EVENTS.crossTenant,
      { path: check.path, ...target.data, userId: check.caller.userId, organizationId: check.caller.organizationId, ownerOrganizationId: owner },
      '[security] Cross-tenant access attempt',
    );
  } catch (error) {
    check.log.debug({ err: error }, '[security] Cross-tenant check failed');
  }
}

function ownerOf(db: Db, target: z.infer<typeof Target>): Promise<number | null | undefined> {
  if ('jobId' in target) return jobOwner(db, target.jobId);
  if ('scheduleId' in target) return scheduleOwner(db, target.scheduleId);
  if ('webhookEventId' in target) return webhookEventOwner(db, target.webhookEventId);
  return fileOwner(db, target.fileId);
}

async function jobOwner(db: Db, id: string): Promise<number | null | undefined> {
  const [row] = await db.select({ org: jobExecutions.organizationId }).from(jobExecutions).where(eq(jobExecutions.id, id)).limit(1);
  return row?.org;
}

async function scheduleOwner(db: Db, id: string): Promise<number | null | undefined> {
  const [row] = await db.select({ org: jobSchedules.organizationId }).from(jobSchedules).where(eq(jobSchedules.id, id)).limit(1);
  return row?.org;
}

async function webhookEventOwner(db: Db, id: string): Promise<number | null | undefined> {
  const [row] = await db.select({ org: webhookEvents.organizationId }).from(webhookEvents).where(eq(webhookEvents.id, id)).limit(1);
  return row?.org;
}

async function fileOwner(db: Db, id: string): Promise<number | null | undefined> {
  const [row] = await db.select({ org: generatedFiles.organizationId }).from(generatedFiles).where(eq(generatedFiles.id, id)).limit(1);
  return row?.org;
}
