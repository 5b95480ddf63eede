import type { ErrorCode } from '../../shared/errors.ts';
import { withoutQueryParams } from '../db/withoutQueryParams.ts';

export interface ValidationIssue {
  path: PropertyKey[];
  message: string;
  code?: string;
}

/**
 * Base of every error the jobs domain throws on purpose: the seed's `JobError(message, code, jobId?)`.
 * jobwire's own codes come from the shared closed list (`ErrorCode`); host apps may use their own.
 */
export class JobError extends Error {
  override name = 'JobError';
  constructor(
    message: string,
    readonly code: ErrorCode | (string & {}),
    readonly jobId?: string,
  ) {
    super(message);
  }
}

/**
 * Input that fails its schema: the seed's `JobValidationError(message, validationErrors, jobId?)`,
 * code `VALIDATION_ERROR`. `validationErrors` are readable strings (`"data.to: Invalid email"`);
 * `issues` keeps the structured form (path, message, Zod code). Never retried.
 */
export class JobValidationError extends JobError {
  override name = 'JobValidationError';
  readonly validationErrors: string[];
  readonly issues: ValidationIssue[];
  constructor(message: string, validationErrors: readonly (string | ValidationIssue)[] = [], jobId?: string) {
    super(message, 'VALIDATION_ERROR', jobId);
    this.issues = validationErrors.map((e) => (typeof e === 'string' ? { path: [], message: e } : e));
    this.validationErrors = this.issues.map(formatIssue);
  }
}

function formatIssue(issue: ValidationIssue): string {
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Thrown by a handler for a failure that retrying cannot fix: the job fails at once. */
export class NonRetryableJobError extends Error {
  override name = 'NonRetryableJobError';
}

export class JobNotFoundError extends JobError {
  override name = 'JobNotFoundError';
  constructor(what: 'job' | 'schedule', id: string) {
    super(`${what === 'job' ? 'Job' : 'Schedule'} ${id} not found`, what === 'job' ? 'JOB_NOT_FOUND' : 'SCHEDULE_NOT_FOUND', what === 'job' ? id : undefined);
  }
}

/** A lifecycle request the job's current status does not allow (retry a running job, …). */
export class InvalidTransitionError extends JobError {
  override name = 'InvalidTransitionError';
  constructor(message: string, jobId?: string) {
    super(message, 'INVALID_TRANSITION', jobId);
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
  const error = toError(withoutQueryParams(value));
  return { name: error.name, message: error.message.slice(0, 2000) };
}
