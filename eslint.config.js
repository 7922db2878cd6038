// ESLint with typescript-eslint's type-checked rules: the async mistakes (a promise left floating,
// a promise where a boolean is read, an await of a non-promise) are what this code can least afford.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.ci/out/', 'test/vendor-samples/', 'tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // MockStore is async by contract (a file or Redis store awaits); the memory store keeps the
      // signature without awaiting anything.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests read JSON answers and use vitest's asymmetric matchers (expect.any, stringContaining),
    // which are `any` by design; the async rules stay on.
    files: ['test/**/*.ts', 'src/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    // Plain scripts (benchmarks, CI helpers) are not in the TypeScript project.
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  {
    // The dashboard's script runs in the browser, as it is (no build step).
    files: ['src/mock/admin/ui/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'script' },
  },
);
