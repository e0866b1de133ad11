import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/e2e needs a real homeserver: `npm run test:e2e` (vitest.e2e.config.ts) runs it.
    exclude: ['test/e2e/**', '**/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // .ci/run prints its closing 'N passed, N failed' line from this report.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
  },
});
