// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Import boundaries of the fixed layout (ARCHITECTURE.md "Top-level layout"). */
const noServer = { group: ['../server/*', '../../server/*', '../server/**', '../../server/**'], message: 'shared/ and client/ must not import server code (client may `import type` the router).' };
const noClient = { group: ['**/client/**'], message: 'server/ must not import client/.' };
const nodeBuiltins = { group: ['node:*'], message: 'shared/ is runtime-neutral: no Node APIs.' };

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'drizzle/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', 'dashboard/**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [noServer, noClient, nodeBuiltins] }],
    },
  },
  {
    files: ['client/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ ...noServer, allowTypeImports: true }] }],
    },
  },
  {
    // The web UI runs in the browser: like client/, it may only `import type` from server/ (the router's type).
    files: ['dashboard/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/server/**'], message: 'dashboard/ runs in the browser: only `import type` from server/.', allowTypeImports: true }] }],
    },
  },
  {
    files: ['server/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [noClient] }],
      'no-console': 'error',
    },
  },
  {
    // The jobs domain stays framework-free: HTTP and tRPC are adapters around it.
    files: ['server/jobs/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [noClient, { group: ['express', '@trpc/*', '**/trpc/**', '**/http/**'], message: 'The jobs domain imports no Express or tRPC.' }],
      }],
    },
  },
  {
    // The broker is its own product: it must not depend on the jobs domain.
    files: ['server/broker/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [noClient, { group: ['**/jobs/**', '**/trpc/**', '**/shared/**'], message: 'The broker does not depend on the jobs domain.' }],
      }],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
