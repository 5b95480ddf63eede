/**
 * Every log line a security suite's servers write, at debug level, through jobwire's own logger
 * (so redaction and masking are the ones production uses), and the final scan for secrets.
 */
import { expect } from 'vitest';
import { createLogger, type Logger } from '../../../server/logger.ts';
import { DEV_AUTH_SECRET, QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY, QSTASH_DEV_TOKEN } from '../../../server/env.ts';
import { TEST_AUTH_SECRET } from '../../support/testServer.ts';

export interface CapturedLogs {
  readonly log: Logger;
  readonly lines: string[];
  /** Parsed lines, optionally only those whose `event` is `event`. */
  records(event?: string): Record<string, unknown>[];
}

export function captureLogs(level = 'debug'): CapturedLogs {
  const lines: string[] = [];
  const log = createLogger({ level, destination: { write: (line: string) => void lines.push(line) } });
  return {
    log,
    lines,
    records(event) {
      const all = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      return event === undefined ? all : all.filter((r) => r.event === event);
    },
  };
}

/** Secrets no log line may contain; suites add the tokens, signatures and keys they create. */
const secrets = new Set<string>([TEST_AUTH_SECRET, DEV_AUTH_SECRET, QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY, QSTASH_DEV_TOKEN]);

export function rememberSecret<T extends string>(secret: T): T {
  secrets.add(secret);
  return secret;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/;
const URL_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^\s"'/@:]+:[^\s"'/@]+@/i;

/** Fails with the offending line when any line holds a remembered secret, a JWT, a URL password or an email address. */
export function expectNoSecrets(lines: readonly string[]): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    for (const secret of secrets) expect(line.includes(secret), `a secret leaked into the log: ${line}`).toBe(false);
    expect(EMAIL.test(line), `an email address leaked into the log: ${line}`).toBe(false);
    expect(JWT.test(line), `a token leaked into the log: ${line}`).toBe(false);
    expect(URL_PASSWORD.test(line), `a URL password leaked into the log: ${line}`).toBe(false);
  }
}
