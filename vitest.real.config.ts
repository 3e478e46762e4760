import { defineConfig } from 'vitest/config';

// The real-model tests (test/real/): real vLLM, real TRL. They need `npx leafe setup real` first
// and the whole machine, so they run one file at a time, after the fast suite (`npm run test:real`).
export default defineConfig({
  test: {
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    include: ['test/real/**/*.test.ts'],
    testTimeout: 1_200_000,
    hookTimeout: 900_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
