/**
 * Four tiers, each a vitest project (`npm run test:<tier>`; `npm test` runs them all):
 * - unit: no services, seconds;
 * - stack: Postgres, the realtime service, the Lambda endpoint or the whole stack;
 * - browser: Chromium (Debian's /usr/bin/chromium) driving pages or the web app; its capacity sweep
 *   (`browser-alone`) runs after every other file, alone;
 * - slow: mutants, property runs, the gate, capacity sampling, benches' tests, the web type-check.
 * Only the tiers that need Postgres start one; a tier's files are listed by what they need.
 */
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const BROWSER = [
  'harness/report/html.test.ts',
  'harness/report/html-run.test.ts',
  'harness/realtime/browser.test.ts',
  'reference-app/web/test/chat.test.ts',
];
/**
 * Files that judge the generator's own health: a neighbour's load stalls its event loop, and the
 * step is then (rightly) discarded as the harness measuring itself. They run after every other
 * file, alone on the machine.
 */
const ALONE = ['harness/capacity/sweep.test.ts'];
const SLOW = [
  // Named so by their authors: long by nature (a web build, many runs).
  '**/*.slow.test.ts',
  'test/property/**/*.test.ts',
  'harness/gate/gate.test.ts',
  'harness/capacity/sampler.test.ts',
  'connector/test/pack.test.ts',
  'harness/realtime/bench/**/*.test.ts',
  'reference-app/web/test/typecheck.test.ts',
];
/** Files with no service at all: pure functions, simulated histories, parsers. */
const UNIT = [
  'connector/test/backoff.test.ts',
  'connector/test/config.test.ts',
  'connector/test/package.test.ts',
  'connector/test/plan.test.ts',
  'harness/capacity/knee.test.ts',
  'harness/capacity/attribute.test.ts',
  'harness/capacity/projection.test.ts',
  'harness/checks/**/*.test.ts',
  'harness/faults/spec.test.ts',
  'harness/gate/compare.test.ts',
  'harness/history/**/*.test.ts',
  'harness/stack/parts/history-defective.test.ts',
  'harness/k6/convert.test.ts',
  'harness/k6/scripts.test.ts',
  'harness/k6/workloads.test.ts',
  'harness/report/build.test.ts',
  'harness/report/evaluate.test.ts',
  'harness/report/output.test.ts',
  'harness/report/abuse.test.ts',
  'harness/runner/compare.test.ts',
  'harness/k6/contract-copy.test.ts',
  'harness/lib/cpu-prof.test.ts',
  'harness/lib/duration.test.ts',
  'harness/realtime/rules/fair-queue.test.ts',
  'harness/lib/proc.test.ts',
  'harness/lib/rng.test.ts',
  'harness/lib/thread-priority.test.ts',
  'harness/lib/timestamp.test.ts',
  'harness/stack/chat-rules-contract.test.ts',
  'harness/workload/executors.test.ts',
  'harness/workload/planner.test.ts',
  'harness/workload/shared-frames.test.ts',
  'harness/workload/thread-recorder.test.ts',
  'reference-app/contract/**/*.test.ts',
  'test/architecture.test.ts',
  'reference-app/web/app/lib/api.test.ts',
  'reference-app/web/app/lib/typing.test.ts',
];
const EXCLUDE = ['**/node_modules/**', 'reports/**', '**/.output/**', '**/.nuxt/**', 'connector/dist/**'];
const NUXT = 'harness/testing/nuxt-setup.ts';
const POSTGRES = 'harness/testing/global-setup.ts';

const tier = (name: string, include: string[], extra: TestProjectInlineConfiguration['test'] = {}): TestProjectInlineConfiguration => ({
  extends: true,
  test: { name, include, ...extra },
});

export default defineConfig({
  test: {
    // connector/ may hold its own node_modules and dist/ after a package build.
    exclude: EXCLUDE,
    // The AWS SDK's Node 20 support warning, said once in the README, would otherwise print per worker.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores, shared with other work: whole-stack tests start several processes each.
    maxWorkers: 2,
    projects: [
      tier('unit', UNIT, { globalSetup: [NUXT] }),
      // Everything not listed elsewhere: a new test file needs services until it is listed as a unit.
      tier('stack', ['**/*.test.ts'], { exclude: [...EXCLUDE, ...UNIT, ...BROWSER, ...ALONE, ...SLOW], globalSetup: [NUXT, POSTGRES] }),
      tier('browser', BROWSER, { globalSetup: [NUXT, POSTGRES], setupFiles: ['harness/testing/chromium-preflight.ts'] }),
      tier('slow', SLOW, { globalSetup: [NUXT, POSTGRES] }),
      // Chromium draws its report too, so `npm run test:browser` runs it (`browser*`).
      tier('browser-alone', ALONE, { globalSetup: [NUXT, POSTGRES], setupFiles: ['harness/testing/chromium-preflight.ts'], sequence: { groupOrder: 1 } }),
    ],
  },
});
