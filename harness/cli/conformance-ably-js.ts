/**
 * `npm run conformance:ably-js -- --ably-js <checkout>`: ably-js's own Node tests against the
 * local realtime service, one fresh service and one mocha process per file; prints a per-file
 * table and totals. Not part of `npm test`: it needs an ably-js checkout with its Node build.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { checkCheckout, CORE_FILES, runConformance, type FileResult } from '../conformance/ably-js.ts';
import { parseDuration } from '../lib/duration.ts';
import { textTable } from '../lib/table.ts';
import { runMain, UsageError } from './common.ts';

const optionsSchema = z.object({
  ablyJs: z.string({ error: '--ably-js <path to an ably-js checkout> is required' }).min(1),
  files: z.string().optional(),
  all: z.boolean().optional(),
  fileTimeout: z.string(),
  retries: z.coerce.number({ error: '--retries must be a number' }).int().min(0).max(5),
  transports: z.string().regex(/^[a-z_]+(,[a-z_]+)*$/, '--transports takes names like web_socket,comet'),
  failures: z.boolean().optional(),
  skipInfra: z.boolean().optional(),
});

function program(): Command {
  return new Command('npm run conformance:ably-js --')
    .description("Run ably-js's Node test suite against a fresh local realtime service (sandbox API on) per file; print a per-file table and totals.")
    .option('--ably-js <path>', 'an ably-js checkout with ably-common at test/common/ably-common, build/ably-node.js and mocha installed')
    .option('--files <list>', `comma-separated test files relative to the checkout (default: the ${CORE_FILES.length} core files)`)
    .option('--all', 'every file of test/realtime and test/rest')
    .option('--file-timeout <duration>', 'time bound per file (e.g. 10m)', '10m')
    .option('--retries <n>', 'mocha retries for a failing test', '1')
    .option('--transports <list>', 'ABLY_TEST_TRANSPORTS for the suite', 'web_socket')
    .option('--failures', 'list each failing test after the table')
    .option('--skip-infra', "leave out the tests that need Ably's echo server or the internet (listed in harness/conformance/needs-infra.ts)")
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
}

function filesOf(dir: string, o: z.infer<typeof optionsSchema>): string[] {
  if (o.files) return o.files.split(',').map((f) => f.trim()).filter(Boolean);
  if (!o.all) return CORE_FILES;
  return ['test/realtime', 'test/rest'].flatMap((d) => readdirSync(join(dir, d)).filter((f) => f.endsWith('.test.js')).sort().map((f) => `${d}/${f}`));
}

function print(results: FileResult[], withFailures: boolean): void {
  const rows = results.map((r) => [r.file, String(r.passed), String(r.failed), String(r.pending), `${(r.durationMs / 1000).toFixed(0)} s`, r.note ?? '']);
  const sum = (k: 'passed' | 'failed' | 'pending') => results.reduce((a, r) => a + r[k], 0);
  const total = results.reduce((a, r) => a + r.durationMs, 0);
  rows.push(['total', String(sum('passed')), String(sum('failed')), String(sum('pending')), `${(total / 1000).toFixed(0)} s`, '']);
  process.stdout.write(`\n${textTable(['file', 'passed', 'failed', 'skipped', 'time', 'note'], rows, ['left', 'right', 'right', 'right', 'right', 'left'])}\n`);
  if (!withFailures) return;
  for (const r of results) for (const f of r.failures) process.stdout.write(`FAIL ${r.file}: ${f.title}: ${f.message}\n`);
}

if (process.argv[1] && /conformance-ably-js\.ts$/.test(process.argv[1])) {
  runMain(async () => {
    const cmd = program();
    cmd.parse();
    const parsed = optionsSchema.safeParse(cmd.opts());
    if (!parsed.success) throw new UsageError(parsed.error.issues[0]?.message ?? 'invalid options');
    const o = parsed.data;
    const dir = resolve(o.ablyJs);
    let fileTimeoutMs: number;
    try {
      checkCheckout(dir);
      fileTimeoutMs = parseDuration(o.fileTimeout, '--file-timeout');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const results = await runConformance({
      ablyJs: dir,
      files: filesOf(dir, o),
      fileTimeoutMs,
      retries: o.retries,
      transports: o.transports,
      skipInfra: o.skipInfra ?? false,
      onFile: (r) => process.stderr.write(`${r.file}: ${r.passed} passed, ${r.failed} failed, ${r.pending} skipped${r.note ? ` (${r.note})` : ''}\n`),
    });
    print(results, o.failures ?? false);
    return results.some((r) => r.failed > 0 || r.note) ? 1 : 0;
  });
}
