import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real model, real LanceDB, real Redis: integration tests need time, and files run in parallel forks.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    env: { LANCEDB_LOG: 'error' },
  },
});
