import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core machines: forks are the most robust pool for numeric code;
    // cap workers so tests do not oversubscribe the CPU.
    pool: 'forks',
    maxWorkers: 2,
  },
});
