/** Maps domain errors to tRPC errors, once, at the API edge (STYLE.md "Errors"). */
import { TRPCError, type TRPC_ERROR_CODE_KEY } from '@trpc/server';
import { z } from 'zod';
import type { ErrorCode } from '../../shared/errors.ts';
import { JobError, JobValidationError } from '../jobs/errors.ts';

/** The tRPC code each shared error code travels under. */
export const TRPC_CODE_BY_ERROR_CODE = {
  VALIDATION_ERROR: 'BAD_REQUEST',
  UNKNOWN_JOB_TYPE: 'BAD_REQUEST',
  JOB_TYPE_NOT_AVAILABLE: 'BAD_REQUEST',
  FORBIDDEN_JOB_TYPE: 'FORBIDDEN',
  FORBIDDEN_OPTION: 'FORBIDDEN',
  // Something in the payload is admin-only (an admin-only export entity).
  FORBIDDEN_PAYLOAD: 'FORBIDDEN',
  JOB_NOT_FOUND: 'NOT_FOUND',
  SCHEDULE_NOT_FOUND: 'NOT_FOUND',
  WEBHOOK_EVENT_NOT_FOUND: 'NOT_FOUND',
  FILE_NOT_FOUND: 'NOT_FOUND',
  // The file is gone for good (HTTP downloads say 410); tRPC has no GONE, and NOT_FOUND is what a client acts on.
  FILE_EXPIRED: 'NOT_FOUND',
  INVALID_TRANSITION: 'CONFLICT',
  PUBLISH_FAILED: 'INTERNAL_SERVER_ERROR',
  RATE_LIMITED: 'TOO_MANY_REQUESTS',
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_REQUESTS',
} as const satisfies Record<ErrorCode, TRPC_ERROR_CODE_KEY>;

/** A client-facing error with a shared code, thrown by the API layer itself (access checks). */
export function apiError(code: ErrorCode, message: string): TRPCError {
  return new TRPCError({ code: TRPC_CODE_BY_ERROR_CODE[code], message, cause: new JobError(message, code) });
}

const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(TRPC_CODE_BY_ERROR_CODE, code);

/** The tRPC error for a domain error (a `JobError` cause), or `error` unchanged. */
export function mapDomainError(error: TRPCError): TRPCError {
  const cause = error.cause;
  if (!(cause instanceof JobError) || !isErrorCode(cause.code)) return error; // a host app's own code: not a client error
  const code = TRPC_CODE_BY_ERROR_CODE[cause.code];
  if (code === error.code) return error;
  return new TRPCError({ code, message: cause.message, cause });
}

/** The shared error code a tRPC error carries, if any. Input that fails its schema is VALIDATION_ERROR. */
export function jobwireCodeOf(error: TRPCError): ErrorCode | null {
  if (error.cause instanceof JobError) return isErrorCode(error.cause.code) ? error.cause.code : null;
  if (error.code === 'BAD_REQUEST' && error.cause instanceof z.ZodError) return 'VALIDATION_ERROR';
  return null;
}

/** `z.flattenError`'s shape: `formErrors` for the root, `fieldErrors` by first path segment. */
export interface FlattenedIssues {
  formErrors: string[];
  fieldErrors: Record<string, string[]>;
}

/** The validation issues behind a BAD_REQUEST, flattened; null when it has none. */
export function flattenedIssuesOf(error: TRPCError): FlattenedIssues | null {
  const cause = error.cause;
  if (cause instanceof z.ZodError) return flattenIssues(cause.issues);
  if (cause instanceof JobValidationError) return flattenIssues(cause.issues);
  return null;
}

function flattenIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): FlattenedIssues {
  const flat: FlattenedIssues = { formErrors: [], fieldErrors: {} };
  for (const issue of issues) {
    const head = issue.path[0];
    if (head === undefined) flat.formErrors.push(issue.message);
    else (flat.fieldErrors[String(head)] ??= []).push(issue.message);
  }
  return flat;
}
