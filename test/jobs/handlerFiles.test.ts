/**
 * Handlers are found by file (`server/handlers/<type>.ts`), which the compiler cannot check:
 * these tests stand in for the compile-time "every available type has a handler".
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { JOB_TYPE_LIST, jobTypeConfig, type AvailableJobType } from '../../shared/catalogue.ts';
import { isJobHandlerDefinition } from '../../server/jobs/defineJobHandler.ts';
import type { HandlerRegistry } from '../../server/jobs/handlers.ts';
import { HANDLERS_DIR, loadJobHandlers } from '../../server/jobs/loadJobHandlers.ts';
import { waitForJob } from '../../client/waitForJob.ts';
import { startServer, type ServerConfig } from '../../server/startServer.ts';
import { startTestServer, TEST_AUTH_SECRET } from '../support/testServer.ts';

const available = JOB_TYPE_LIST.filter((type): type is AvailableJobType => jobTypeConfig(type).availability === 'available');
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A handlers folder holding the given files. */
function handlersDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-handlers-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** An override for every available type but `except`. */
function overridesExcept(except?: AvailableJobType): Partial<HandlerRegistry> {
  return Object.fromEntries(available.filter((type) => type !== except).map((type) => [type, async () => ({ overridden: type })]));
}

const defineJobHandlerUrl = new URL('../../server/jobs/defineJobHandler.ts', import.meta.url).href;

describe('handler files', () => {
  it.each(available)('server/handlers/%s.ts default-exports the handler of its own type', async (type) => {
    const module = (await import(new URL(`${type}.ts`, HANDLERS_DIR).href)) as { default: unknown };
    expect(isJobHandlerDefinition(module.default)).toBe(true);
    expect(module.default).toMatchObject({ type });
  });

  it('loads one handler per available type, and nothing else', async () => {
    const definitions = await loadJobHandlers();
    expect(Object.keys(definitions).sort()).toEqual([...available].sort());
  });

  it('refuses to start without a handler file, naming the file to create, before opening anything', async () => {
    const config: ServerConfig = {
      port: 0,
      database: { url: 'postgres://127.0.0.1:1/never-opened' },
      qstash: { embedded: { port: 0 } },
      authSecret: TEST_AUTH_SECRET,
      email: { from: 'noreply@jobwire.test', mailboxDir: handlersDir() },
      log: pino({ level: 'silent' }),
      handlersDir: handlersDir(),
      handlers: overridesExcept('send-email'),
    };
    await expect(startServer(config)).rejects.toThrow(
      /Job type 'send-email' has no handler: create .*send-email\.ts with `export default defineJobHandler\('send-email', …\)`/,
    );
  });

  it("refuses a file that defines another type's handler, or exports none", async () => {
    const other = `import { defineJobHandler } from '${defineJobHandlerUrl}';\nexport default defineJobHandler('process-webhook', async () => null);\n`;
    await expect(loadJobHandlers({ dir: handlersDir({ 'send-email.ts': other }), overrides: overridesExcept('send-email') })).rejects.toThrow(
      /send-email\.ts defines the handler of 'process-webhook', not 'send-email'/,
    );
    const none = 'export default async function handler() {}\n';
    await expect(loadJobHandlers({ dir: handlersDir({ 'send-email.ts': none }), overrides: overridesExcept('send-email') })).rejects.toThrow(
      /send-email\.ts must `export default defineJobHandler\('send-email', …\)`/,
    );
  });

  it('finds a compiled .js handler file', async () => {
    const compiled = `import { defineJobHandler } from '${defineJobHandlerUrl}';\nexport default defineJobHandler('send-email', async () => 'sent');\n`;
    const definitions = await loadJobHandlers({ dir: handlersDir({ 'send-email.js': compiled }), overrides: overridesExcept('send-email') });
    expect(definitions['send-email'].type).toBe('send-email');
  });

  it('starts on ServerConfig.handlers alone, which stand in for missing files and run', async () => {
    const t = await startTestServer({ handlersDir: handlersDir(), handlers: overridesExcept() });
    try {
      const client = await t.client();
      const { jobId } = await client.jobs.enqueue.mutate({ type: 'cleanup-old-data', payload: { retention: 30 } });
      expect(await waitForJob(client, jobId)).toMatchObject({ status: 'completed', result: { overridden: 'cleanup-old-data' } });
    } finally {
      await t.stop();
    }
  });
});
