import type { JobType } from '../../shared/catalogue.ts';
import type { Db } from '../db/database.ts';
import type { EmailBrand } from '../email/branding.ts';
import type { EmailSender } from '../email/emailSender.ts';
import type { createDataJobs } from '../files/createDataJobs.ts';
import type { Logger } from '../logger.ts';
import type { WebhookHandlers } from '../webhooks/webhookHandlers.ts';
import type { JobsDeps } from './deps.ts';
import type { JobHandler } from './handlers.ts';

/** What `startServer` hands a handler factory: the running server's services. */
export interface HandlerServices {
  /** Database, publisher, logger: what enqueueing more jobs needs (`createDispatcher(jobs)`). */
  readonly jobs: JobsDeps;
  readonly db: Db;
  readonly log: Logger;
  /** Where emails go (Resend, or the dev mailbox), their sender and the brand templates use. */
  readonly email: { readonly sender: EmailSender; readonly from: string; readonly brand?: EmailBrand };
  /** The export, report and cleanup handlers, built around one file storage and export registry. */
  readonly dataJobs: ReturnType<typeof createDataJobs>['handlers'];
  /** `ServerConfig.stripe`. */
  readonly stripe: { readonly updatePaymentUrl?: string | undefined };
  /** `ServerConfig.webhookHandlers`, or none registered. */
  readonly webhookHandlers: WebhookHandlers;
}

// Symbol.for: a definition stays recognisable if its module is loaded twice (a .ts and a .js copy).
const DEFINITION = Symbol.for('jobwire.jobHandlerDefinition');

/** A handler file's default export: the job type it handles and how to build its handler. */
export interface JobHandlerDefinition<T extends JobType = JobType> {
  readonly [DEFINITION]: true;
  readonly type: T;
  create(services: HandlerServices): JobHandler<T>;
}

/**
 * Declares the handler of one job type, as the default export of `server/handlers/<type>.ts`:
 * either the handler itself, `(payload, job) => …` (the seed's shape), or, for a handler that
 * needs the server's services, `{ create: (services) => handler }`. `payload` is typed from the
 * type's catalogue schema; the resolved value is stored as the job's `result`.
 */
export function defineJobHandler<T extends JobType>(
  type: T,
  handler: JobHandler<T> | { create(services: HandlerServices): JobHandler<T> },
): JobHandlerDefinition<T> {
  const create = typeof handler === 'function' ? () => handler : (services: HandlerServices) => handler.create(services);
  return Object.freeze({ [DEFINITION]: true as const, type, create });
}

export function isJobHandlerDefinition(value: unknown): value is JobHandlerDefinition {
  return typeof value === 'object' && value !== null && DEFINITION in value;
}
