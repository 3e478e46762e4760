import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The Temporal core bridge is a native addon: run test files in child processes.
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    // Real-model tests need `leafe setup real` and the whole machine: `npm run test:real`.
    exclude: ['test/real/**', 'node_modules/**'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    maxWorkers: 2,
  },
});
