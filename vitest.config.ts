import { defineConfig } from 'vitest/config';

// Three suites split by suffix (docs/architecture.md §9): *.test.ts pure and fast, *.int.test.ts with real Redis,
// databases and the sandbox CRMs over HTTP, *.e2e.test.ts in Chromium. `npm test` runs them all.
export default defineConfig({
  test: {
    // Integration files mostly wait on sockets and timers: two files at a time keep both cores busy
    // (one at a time, the default on two cores, left one idle half of the run).
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts', 'test/**/*.e2e.test.ts', 'node_modules/**'],
        },
      },
      {
        test: {
          name: 'int',
          include: ['test/**/*.int.test.ts'],
          globalSetup: ['./test/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e.test.ts'],
          globalSetup: ['./test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
