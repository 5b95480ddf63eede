/** `npm run token -- --user <id> --org <id> --role <member|admin> [--expires 12h]`: prints a bearer token. */
import { parseArgs } from 'node:util';
import { loadEnv } from '../env.ts';
import { Caller, DEFAULT_TOKEN_LIFETIME, signToken } from './token.ts';

const USAGE = `usage: npm run token -- --user <id> --org <id> --role <member|admin> [--expires <span, e.g. 30m; default ${DEFAULT_TOKEN_LIFETIME}, at most AUTH_MAX_TOKEN_LIFETIME>]\n`;
const EXPIRES = /^([0-9]+)\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks|y|yr|yrs|year|years)$/;
/** Seconds per unit, by first letter, as jose counts them (a year is 365.25 days). */
const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_557_600 };

/** The flag each Caller field comes from, to name it in errors. */
const FLAGS: Record<string, string> = { userId: 'user', organizationId: 'org', role: 'role' };

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseCliArgs(argv: string[], maxLifetimeS: number): { caller: Caller; expiresIn: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        user: { type: 'string' },
        org: { type: 'string' },
        role: { type: 'string' },
        expires: { type: 'string', default: DEFAULT_TOKEN_LIFETIME },
      },
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const expiresIn = values.expires.trim();
  const span = EXPIRES.exec(expiresIn);
  if (!span) fail(`--expires must be a positive time span such as 12h or 30m, got "${values.expires}"`);
  // The server refuses a token that lives longer: say so now rather than print a useless token.
  if (Number(span[1]) * (UNIT_S[span[2]?.charAt(0) ?? ''] ?? Infinity) > maxLifetimeS) fail(`--expires ${expiresIn} is longer than AUTH_MAX_TOKEN_LIFETIME (${maxLifetimeS} s)`);
  if (!values.org || !/^[0-9]+$/.test(values.org)) fail('--org must be an integer organization id');
  const caller = Caller.safeParse({ userId: values.user, organizationId: Number(values.org), role: values.role });
  if (!caller.success) {
    const problems = caller.error.issues.map((i) => `--${FLAGS[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`);
    fail(problems.join('; '));
  }
  return { caller: caller.data, expiresIn };
}

const env = loadEnv();
const { caller, expiresIn } = parseCliArgs(process.argv.slice(2), env.AUTH_MAX_TOKEN_LIFETIME);
const token = await signToken(caller, env.AUTH_SECRET, { expiresIn });
process.stdout.write(`${token}\n`);
