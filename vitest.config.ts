import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // connector/ may hold its own node_modules and dist/ after a package build.
    exclude: ['**/node_modules/**', 'reports/**', '**/.output/**', '**/.nuxt/**', 'connector/dist/**'],
    globalSetup: ['harness/testing/global-setup.ts'],
    // The AWS SDK's Node 20 support warning, said once in the README, would otherwise print per worker.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: whole-stack tests measure latency, so keep parallelism modest.
    maxWorkers: 2,
  },
});
