/**
 * Errors from the database without the values of the failed statement. drizzle wraps every
 * failed statement in a `DrizzleQueryError` whose message and `params` carry its parameters, and
 * PostgreSQL echoes a bad value back (`invalid input syntax for type integer: "<value>"`, a
 * unique violation's `detail`): a password-reset token or a raw webhook body would reach the
 * logs, or a job's stored error, in clear. The statement, the SQLSTATE and the reason stay.
 */
export function withoutQueryParams(value: unknown, depth = 0): unknown {
  if (!(value instanceof Error) || depth > 8) return value;
  const cause = 'cause' in value ? withoutQueryParams(value.cause, depth + 1) : undefined;
  if (isDrizzleQueryError(value)) return rebuilt(value, `Failed query: ${String(value.query)}`, cause);
  if (isDatabaseError(value)) return Object.assign(rebuilt(value, maskValues(value.message), cause), { code: value.code });
  return cause === (value as { cause?: unknown }).cause ? value : rebuilt(value, value.message, cause);
}

function isDrizzleQueryError(error: Error): error is Error & { query: unknown } {
  return 'params' in error && 'query' in error && error.message.startsWith('Failed query:');
}

/** postgres.js `PostgresError` and PGlite's `DatabaseError`: a SQLSTATE `code` and a `severity`. */
function isDatabaseError(error: Error): error is Error & { code: string } {
  return 'severity' in error && 'code' in error && typeof error.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code);
}

/** Quoted literals in a server message are values (`"<value>"`); identifiers are quoted the same way, a fair price. */
function maskValues(message: string): string {
  return message.replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/=\((?:[^()]|\([^()]*\))*\)/g, '=(…)');
}

/** A plain Error with the given message: no own properties (params, detail, where) carried over. */
function rebuilt(original: Error, message: string, cause: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  error.name = original.name;
  const frames = original.stack?.split('\n').filter((line) => /^\s+at /.test(line)) ?? [];
  error.stack = [`${original.name}: ${message}`, ...frames].join('\n');
  return error;
}
