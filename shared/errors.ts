/**
 * The closed list of error codes clients switch on. tRPC errors carry one of these in
 * `error.data.jobwireCode` next to tRPC's own code.
 */
export const ERROR_CODES = [
  'VALIDATION_ERROR',
  'UNKNOWN_JOB_TYPE',
  'JOB_TYPE_NOT_AVAILABLE',
  'FORBIDDEN_JOB_TYPE',
  'FORBIDDEN_OPTION',
  'FORBIDDEN_PAYLOAD',
  'JOB_NOT_FOUND',
  'SCHEDULE_NOT_FOUND',
  'WEBHOOK_EVENT_NOT_FOUND',
  'FILE_NOT_FOUND',
  'FILE_EXPIRED',
  'INVALID_TRANSITION',
  'PUBLISH_FAILED',
  'RATE_LIMITED',
  /** A live subscription over the caller's, organization's or server's cap of open streams. */
  'TOO_MANY_SUBSCRIPTIONS',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
