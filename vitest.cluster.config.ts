import { defineConfig } from 'vitest/config';

// The cluster tests (test/cluster/): Temporal Server on PostgreSQL with per-queue worker processes.
// They need Go (builds the server once, cached) and Debian's postgresql: `npm run test:cluster`.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/cluster/**/*.test.ts'],
    testTimeout: 1_200_000,
    hookTimeout: 1_800_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
