import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'reports/**', '**/.output/**', '**/.nuxt/**'],
    globalSetup: ['harness/testing/global-setup.ts'],
    // The AWS SDK's Node 20 support warning, said once in the README, would otherwise print per worker.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: whole-stack tests measure latency, so keep parallelism modest.
    maxWorkers: 2,
  },
});
