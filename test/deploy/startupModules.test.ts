/**
 * What a start of the compiled server loads (README "Start-up time"): a few bundled files instead
 * of ~1,300 modules, and none of the SDKs only some jobs or settings need (pdfkit, Stripe, Resend,
 * the OpenTelemetry SDK), which load when first used. Every ES module the process resolves is
 * logged by a loader hook; the build's contents file says what each bundled file holds.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiledCheckout, startJobwire, throwawayEnv } from './jobwireProcess.ts';

/** Loaded on demand only: reports, Stripe webhooks, Resend, tracing. */
const ON_DEMAND = ['pdfkit', 'stripe', 'resend', '@opentelemetry/sdk-trace-node', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/resources'];

let checkout: Awaited<ReturnType<typeof compiledCheckout>>;
let base: Awaited<ReturnType<typeof throwawayEnv>>;
/** Source files and packages the start loaded, and how many files. */
let loaded: { names: Set<string>; files: number };

beforeAll(async () => {
  [checkout, base] = await Promise.all([compiledCheckout('startup-modules'), throwawayEnv()]);
  const log = join(base.dataDir, 'resolved.log');
  const hooks = `import { appendFileSync } from 'node:fs'; export async function resolve(specifier, context, next) { const result = await next(specifier, context); appendFileSync(${JSON.stringify(log)}, result.url + '\\n'); return result; }`;
  const register = join(base.dataDir, 'register-hooks.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});\n`);
  writeFileSync(log, '');

  const child = startJobwire(['--import', register, checkout.main], { cwd: base.dataDir, env: base.env });
  try {
    await child.ready();
  } finally {
    await child.stop();
  }
  const contents = JSON.parse(readFileSync(join(checkout.dir, 'dist', 'server', '.bundle-contents.json'), 'utf8')) as Record<string, string[]>;
  const dist = join(checkout.dir, 'dist') + '/';
  const files = [...new Set(readFileSync(log, 'utf8').split('\n').filter((url) => url.startsWith('file:')))].map((url) => fileURLToPath(url));
  const names = files.flatMap((file) => {
    if (file.startsWith(dist)) return contents[file.slice(dist.length)] ?? [];
    const [scope = '', name = ''] = file.split('/node_modules/').at(-1)!.split('/');
    return [scope.startsWith('@') ? `${scope}/${name}` : scope];
  });
  loaded = { names: new Set(names), files: files.length };
}, 300_000);

afterAll(async () => {
  await base?.drop();
  checkout?.remove();
});

describe('a start of the compiled server', () => {
  it('loads the server and its packages from a few bundled files', () => {
    // What the log and the contents file show (else the assertions below prove nothing).
    for (const name of ['server/startServer.ts', 'server/env.ts', 'express', 'zod', 'drizzle-orm', '@electric-sql/pglite']) expect(loaded.names).toContain(name);
    expect(loaded.files).toBeLessThan(100); // ~1,300 when each module was its own file
  });

  it('loads none of the SDKs only some jobs and settings need', () => {
    expect(ON_DEMAND.filter((name) => loaded.names.has(name))).toEqual([]);
  });
});
