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
    projects: [
      {
        // Type tests (*.test-d.ts) run once, here.
        test: { ...common, name: 'pglite', env: { JOBWIRE_TEST_DB: 'pglite' }, typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] } },
      },
      { test: { ...common, name: 'postgres', env: { JOBWIRE_TEST_DB: 'postgres' } } },
    ],
  },
});
