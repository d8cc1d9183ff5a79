import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Same pool settings as the packages: forks, at most two workers.
    pool: 'forks',
    maxWorkers: 2,
  },
});
