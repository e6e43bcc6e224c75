/**
 * The root `tsc --noEmit` leaves the web app out (Vue files need vue-tsc and Nuxt's generated
 * types), so `npm test` type-checks it here: the app with vue-tsc, these tests with tsc.
 */
import { describe, expect, it } from 'vitest';
import { runWebTool, withBuildLock } from '../build.ts';

describe('web app types', () => {
  it('the app (vue-tsc, strict) and the browser tests (tsc) type-check', async () => {
    await withBuildLock(async () => {
      // Regenerates .nuxt's tsconfig and auto-import types from the current config.
      await runWebTool('nuxt', ['prepare']);
      await expect(runWebTool('vue-tsc', ['-p', '.nuxt/tsconfig.app.json', '--noEmit'])).resolves.toBeTypeOf('string');
    });
    await expect(runWebTool('tsc', ['-p', 'test/tsconfig.json'])).resolves.toBeTypeOf('string');
  }, 120_000);
});
