import { defineConfig } from 'vitest/config';

// End-to-end tests against a real Synapse (`npm run test:e2e`); `npm test` leaves test/e2e out.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts', 'test/e2e/support/synapse-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two files at a time: the machine has two cores and Synapse is one Python process.
    maxWorkers: 2,
    // .ci/run adds this report's counts to the unit suite's for its closing line.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-e2e-report.json' },
  },
});
