import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The multi-instance topology test: not part of `vitest run` (it needs HAProxy and takes minutes);
// `npm run test:multi-instance` runs it through scripts/multi-instance/run.sh.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../../..', import.meta.url)),
    include: ['test/deploy/multiInstance/*.deploy.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    fileParallelism: false,
  },
});
