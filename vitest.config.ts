import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'reports/**', '**/.output/**', '**/.nuxt/**'],
    globalSetup: ['harness/testing/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: whole-stack tests measure latency, so keep parallelism modest.
    maxWorkers: 2,
  },
});
