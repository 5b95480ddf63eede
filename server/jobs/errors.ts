import type { ErrorCode } from '../../shared/errors.ts';
import { DrizzleQueryError } from 'drizzle-orm';
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

/**
 * SQLSTATEs of a database that is away or restarting (class 08 connection exceptions, 57P01–03
 * shutdown / cannot connect now, 53300 too many connections) and postgres.js's own connection
 * codes: a failure of the infrastructure, not of the statement or of the handler that ran it.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const DRIVER_CONNECTION_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'CONNECTION_ENDED', 'CONNECTION_STALLED']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * Whether `error` says the database could not be reached (connection refused, reset, terminated,
 * stalled), as opposed to a statement that failed. A socket error counts only when the driver
 * reported it for a query (drizzle's `DrizzleQueryError` around it), so a handler whose own HTTP
 * call was reset is still the handler's failure.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  let viaQuery = false;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const { name, code } = current as { name?: unknown; code?: unknown };
    if (typeof code === 'string') {
      if (DRIVER_CONNECTION_CODES.has(code)) return true;
      if ((name === 'PostgresError' || viaQuery) && (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code))) return true;
      if (viaQuery && SOCKET_CODES.has(code)) return true;
    }
    if (current instanceof DrizzleQueryError) viaQuery = true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
