/** `npm run token -- --user <id> --org <id> --role <member|admin> [--expires 30d]`: prints a bearer token. */
import { parseArgs } from 'node:util';
import { loadEnv } from '../env.ts';
import { Caller, signToken } from './token.ts';

const USAGE = 'usage: npm run token -- --user <id> --org <id> --role <member|admin> [--expires <span, e.g. 7d; default 30d>]\n';
const EXPIRES = /^[0-9]+\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks|y|yr|yrs|year|years)$/;

/** The flag each Caller field comes from, to name it in errors. */
const FLAGS: Record<string, string> = { userId: 'user', organizationId: 'org', role: 'role' };

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseCliArgs(argv: string[]): { caller: Caller; expiresIn: string } {
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
        expires: { type: 'string', default: '30d' },
      },
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const expiresIn = values.expires.trim();
  if (!EXPIRES.test(expiresIn)) fail(`--expires must be a positive time span such as 7d or 12h, got "${values.expires}"`);
  if (!values.org || !/^[0-9]+$/.test(values.org)) fail('--org must be an integer organization id');
  const caller = Caller.safeParse({ userId: values.user, organizationId: Number(values.org), role: values.role });
  if (!caller.success) {
    const problems = caller.error.issues.map((i) => `--${FLAGS[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`);
    fail(problems.join('; '));
  }
  return { caller: caller.data, expiresIn };
}

const { caller, expiresIn } = parseCliArgs(process.argv.slice(2));
const token = await signToken(caller, loadEnv().AUTH_SECRET, { expiresIn });
process.stdout.write(`${token}\n`);
