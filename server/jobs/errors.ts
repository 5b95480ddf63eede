import type { ErrorCode } from '../../shared/errors.ts';

export interface ValidationIssue {
  path: PropertyKey[];
  message: string;
  code?: string;
}

/** Base of every error the jobs domain throws on purpose; `code` is from the shared closed list. */
export class JobError extends Error {
  override name = 'JobError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Input that fails its schema. Carries the Zod issues; never retried. */
export class JobValidationError extends JobError {
  override name = 'JobValidationError';
  constructor(
    message: string,
    readonly issues: ValidationIssue[] = [],
  ) {
    super('VALIDATION_FAILED', message);
  }
}

/** Thrown by a handler for a failure that retrying cannot fix: the job fails at once. */
export class NonRetryableJobError extends Error {
  override name = 'NonRetryableJobError';
}

export class JobNotFoundError extends JobError {
  override name = 'JobNotFoundError';
  constructor(what: 'job' | 'schedule', id: string) {
    super(what === 'job' ? 'JOB_NOT_FOUND' : 'SCHEDULE_NOT_FOUND', `${what === 'job' ? 'Job' : 'Schedule'} ${id} not found`);
  }
}

/** A lifecycle request the job's current status does not allow (retry a running job, …). */
export class InvalidTransitionError extends JobError {
  override name = 'InvalidTransitionError';
  constructor(message: string) {
    super('INVALID_TRANSITION', message);
  }
}

export function isNonRetryable(error: unknown): boolean {
  return error instanceof NonRetryableJobError || error instanceof JobValidationError;
}

/** Any thrown value as an Error. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  try {
    return new Error(JSON.stringify(value));
  } catch {
    return new Error(String(value));
  }
}

/** The form errors are persisted in: `{ name, message }` (the stack goes to logs only). */
export function toStoredError(value: unknown): { name: string; message: string } {
  const error = toError(value);
  return { name: error.name, message: error.message.slice(0, 2000) };
}
