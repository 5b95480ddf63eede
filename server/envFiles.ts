import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

/** The files read when `ENV_FILES` is unset, outside production; the first one to set a variable wins. */
export const DEFAULT_ENV_FILES = ['.env.local', '.env'] as const;

/**
 * Reads env files into `target` (process.env at start-up) with Node's own parser (`util.parseEnv`,
 * the syntax of `node --env-file`). A variable already in `target` is never replaced, so the real
 * environment wins over `.env.local`, which wins over `.env`. Which files are read is decided by
 * the real environment alone:
 * - `ENV_FILES` unset: `.env.local` and `.env` in `cwd`, whichever exist; none with NODE_ENV=production.
 * - `ENV_FILES=a,b`: exactly those files (relative to `cwd`), in that precedence, in any NODE_ENV; each must exist.
 * - `ENV_FILES=none`: no file.
 * Returns the files read.
 */
export function loadEnvFiles(target: NodeJS.ProcessEnv, cwd: string): string[] {
  const requested = target.ENV_FILES?.trim();
  const explicit = requested !== undefined && requested !== '';
  const production = target.NODE_ENV === 'production';
  const names = !explicit ? (production ? [] : [...DEFAULT_ENV_FILES]) : requested === 'none' ? [] : requested.split(',').map((name) => name.trim()).filter(Boolean);

  const read: string[] = [];
  let nodeEnvFrom: string | undefined;
  for (const name of names) {
    const path = resolve(cwd, name);
    if (!existsSync(path)) {
      if (explicit) throw new Error(`ENV_FILES names ${name}, which does not exist (${path}): create it, or fix ENV_FILES`);
      continue;
    }
    let values: NodeJS.Dict<string>;
    try {
      values = parseEnv(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new Error(`Cannot read the env file ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined || key in target) continue;
      target[key] = value;
      if (key === 'NODE_ENV') nodeEnvFrom = name;
    }
    read.push(name);
  }
  // Only the real environment may turn file reading on in production: a file cannot do it for itself.
  if (!explicit && nodeEnvFrom && target.NODE_ENV === 'production') {
    throw new Error(
      `NODE_ENV=production comes from ${nodeEnvFrom}, but env files are not read in production unless asked for: ` +
        `set NODE_ENV=production in the real environment, and ENV_FILES=${nodeEnvFrom} there if that file should be read`,
    );
  }
  return read;
}
