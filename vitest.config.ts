import { defineConfig } from 'vitest/config';

// Root config used by `pnpm test:ci`: one vitest run covers every workspace
// package that has its own vitest.config.ts (each keeps its own settings).
// `pnpm test` instead runs each package's `vitest run` through turbo.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts', 'examples/vitest.config.ts', 'benchmarks/vitest.config.ts'],
    pool: 'forks',
    maxWorkers: 2,
  },
});
