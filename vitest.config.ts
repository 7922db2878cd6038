import { defineConfig } from 'vitest/config';
import { reportersFor } from './vitest.reporters.js';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Pact runs in its own two steps (vitest.pact.config.ts, npm run pact).
    exclude: ['test/pact/**', 'node_modules/**', 'dist/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // One temporary folder per run, removed at its end (test/helpers/run-tmpdir.ts).
    globalSetup: ['test/helpers/run-tmpdir.ts'],
    // Two cores: sharp and the servers under test share them with the test runner.
    maxWorkers: 2,
    ...reportersFor('unit'),
  },
});
