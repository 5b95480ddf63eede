import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Every database-backed suite runs twice: against PGlite (the embedded default) and against the
// real PostgreSQL server. Each test file creates its own database, so files run in parallel.
const common = {
  include: ['test/**/*.test.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    // Vitest's default is one worker per core minus one: a single worker on a 2-core CI machine,
    // which then sits idle whenever a test waits on the network, a timer or the database. These
    // files are mostly waiting, so run at least three at once (JOBWIRE_TEST_WORKERS overrides).
    maxWorkers: Number(process.env.JOBWIRE_TEST_WORKERS) || Math.max(3, availableParallelism() - 1),
    projects: [
      {
        // Type tests (*.test-d.ts) run once, here.
        test: { ...common, name: 'pglite', env: { JOBWIRE_TEST_DB: 'pglite' }, typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] } },
      },
      { test: { ...common, name: 'postgres', env: { JOBWIRE_TEST_DB: 'postgres' } } },
    ],
  },
});
