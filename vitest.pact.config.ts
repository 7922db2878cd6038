import { defineConfig } from 'vitest/config';
import { reportersFor } from './vitest.reporters.js';

// Pact's own usage tracking is off in every run, not only in CI.
process.env.PACT_DO_NOT_TRACK ??= 'true';

/**
 * Pact runs in two steps, consumer then provider (`npm run pact`): the provider verifies the pact
 * file the consumer step wrote. Each step is one file, run alone, one test at a time.
 */
export default defineConfig({
  test: {
    include: ['test/pact/**/*.pact.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One temporary folder per run, removed at its end (test/helpers/run-tmpdir.ts).
    globalSetup: ['test/helpers/run-tmpdir.ts'],
    fileParallelism: false,
    ...reportersFor(process.argv.some((arg) => arg.includes('provider')) ? 'pact-provider' : 'pact-consumer'),
  },
});
