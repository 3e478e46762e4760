import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The Temporal core bridge is a native addon: run test files in child processes.
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    // Real-model and cluster tests need their own setup and commands: `npm run test:real`, `npm run test:cluster`.
    exclude: ['test/real/**', 'test/cluster/**', 'node_modules/**'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    maxWorkers: 2,
  },
});
