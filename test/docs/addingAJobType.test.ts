/**
 * Follows docs/adding-a-job-type.md mechanically: copies the repository, applies the document's
 * code blocks (parsed from the document itself, so the two cannot drift), then type-checks and
 * lints the copy and runs the document's own test (Step 6) there, against this project's database.
 */
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DRIVER } from '../support/testDatabase.ts';
import { applyDocBlock, normalizeCode, parseDocBlocks, type DocBlock } from './docBlocks.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = 'docs/adding-a-job-type.md';
const blocks = parseDocBlocks(readFileSync(join(ROOT, DOC), 'utf8'));
const applied = blocks.filter((block): block is Exclude<DocBlock, { kind: 'example' }> => block.kind !== 'example');
const stepSixTest = applied.find((block) => block.kind === 'file' && block.path.startsWith('test/'));

/** The working tree as git sees it (tracked and untracked, not ignored), so uncommitted work counts. */
function copyRepository(): string {
  const copy = mkdtempSync(join(tmpdir(), 'jobwire-doc-'));
  let files: string[] | undefined;
  try {
    files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  } catch {
    // Not a git checkout (an unpacked archive): everything but dependencies and local data.
    const skipped = /^(node_modules|\.git|\.data|coverage|dist)(\/|$)/;
    cpSync(ROOT, copy, { recursive: true, filter: (source) => !skipped.test(relative(ROOT, source).split(sep).join('/')) });
  }
  for (const file of files ?? []) {
    const source = join(ROOT, file);
    if (!existsSync(source) || !lstatSync(source).isFile()) continue; // deleted in the working tree
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    copyFileSync(source, join(copy, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  return copy;
}

/** Runs a command in the copy; resolves with its exit code and output, never rejects. */
function run(cwd: string, command: string, args: string[]): Promise<{ code: number; output: string }> {
  // Without the outer run's VITEST* variables the inner vitest behaves as when run by hand.
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'FORCE_COLOR')), NO_COLOR: '1' };
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `$ ${command} ${args.join(' ')}\n${stdout}${stderr}` });
    });
  });
}

describe(DOC, () => {
  let copy: string | undefined;
  beforeAll(() => {
    copy = copyRepository();
    for (const block of applied) applyDocBlock(copy, block);
  });
  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('touches the catalogue entry, one handler file and its test, nothing else', () => {
    expect(applied.map((block) => block.path).sort()).toEqual([
      'server/handlers/send-sms.ts',
      'shared/catalogue.ts',
      'shared/catalogue.ts',
      'test/handlers/send-sms.test.ts',
    ]);
    expect(readFileSync(join(copy!, 'shared/catalogue.ts'), 'utf8')).toMatch(/'send-sms': \{\n {4}type: 'send-sms',[\s\S]*\n\} as const/);
  });

  it('shows in Step 7 only calls that the Step 6 test makes', () => {
    const examples = blocks.filter((block) => block.kind === 'example');
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) expect(normalizeCode(stepSixTest!.code)).toContain(normalizeCode(example.code));
  });

  // Type-checking and linting involve no database: once, in the pglite project, is enough.
  it.skipIf(TEST_DRIVER !== 'pglite')('type-checks and lints the copy with the new type', async () => {
    const [tsc, eslint] = await Promise.all([
      run(copy!, 'npx', ['tsc', '--noEmit', '-p', '.']),
      run(copy!, 'npx', ['eslint', ...new Set(applied.map((block) => block.path))]),
    ]);
    expect(tsc.code, tsc.output).toBe(0);
    expect(eslint.code, eslint.output).toBe(0);
  }, 300_000);

  it(`runs the document's Step 6 test in the copy against ${TEST_DRIVER}`, async () => {
    const vitest = await run(copy!, 'npx', ['vitest', 'run', '--project', TEST_DRIVER, stepSixTest!.path]);
    expect(vitest.code, vitest.output).toBe(0);
    expect(vitest.output).toMatch(/Tests\s+3 passed/);
  }, 240_000);
});
