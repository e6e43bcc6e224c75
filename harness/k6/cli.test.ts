/**
 * `npm run load:k6` as a user runs it (a child process). No k6 binary can be installed here, so
 * the runner's path through k6 is exercised with a stand-in `k6` on PATH: a shell script that
 * records its arguments and writes the summary files it was asked for, as k6 does at the end
 * of a run. Everything else (conversion, report files, exit codes) is the real code.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readReport } from '../report/write.ts';
import { K6_INSTALL_URL } from './runner.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
// The stand-in's PATH holds only itself, so it names the tools it uses by their full path.
const CP = spawnSync('sh', ['-c', 'command -v cp'], { encoding: 'utf8' }).stdout.trim();
const tmp = mkdtempSync(join(tmpdir(), 'load-k6-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'harness/cli/load-k6.ts'), ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A PATH holding only a stand-in k6 that writes `handle` and/or `exported` and exits with `exit`. */
function standInK6(name: string, o: { handle?: string; exported?: string; exit: number }): { path: string; argsFile: string } {
  const dir = join(tmp, name);
  const argsFile = join(dir, 'args.txt');
  rmSync(dir, { recursive: true, force: true });
  const script = `#!/bin/sh
if [ "$1" = "version" ]; then echo "k6 v0.0.0-standin (not k6)"; exit 0; fi
printf '%s\\n' "$@" > '${argsFile}'
exported=''; handle=''
while [ $# -gt 0 ]; do
  case "$1" in
    --summary-export) exported="$2"; shift ;;
    -e) case "$2" in K6_HARNESS_SUMMARY=*) handle="\${2#K6_HARNESS_SUMMARY=}" ;; esac; shift ;;
  esac
  shift
done
${o.handle ? `${CP} '${join(FIXTURES, o.handle)}' "$handle"` : ':'}
${o.exported ? `${CP} '${join(FIXTURES, o.exported)}' "$exported"` : ':'}
exit ${o.exit}
`;
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'k6'), script);
  chmodSync(join(dir, 'k6'), 0o755);
  return { path: dir, argsFile };
}

const baseEnv = (path: string): NodeJS.ProcessEnv => ({ HOME: process.env.HOME, PATH: path, LOG_LEVEL: 'error' });

describe('npm run load:k6', () => {
  it('without k6 on PATH prints how to install it and exits non-zero (127)', () => {
    const empty = join(tmp, 'empty');
    spawnSync('mkdir', ['-p', empty]);
    const r = cli(['edit-storm', '-e', 'RATE=5'], baseEnv(empty));
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('k6 is not installed');
    expect(r.stderr).toContain(K6_INSTALL_URL);
    expect(r.stdout).toBe('');
  });

  it('runs k6 with the summary files, the stack file and the user options, then writes the report from handleSummary', () => {
    const k6 = standInK6('ok', { handle: 'edit-storm-handle-summary.json', exported: 'edit-storm-summary.json', exit: 0 });
    const out = join(tmp, 'run-ok');
    const r = cli(['--out', out, '--stack', 'stack.json', 'edit-storm', '-e', 'RATE=5', '--vus', '3'], baseEnv(k6.path));
    expect(r.stderr).toContain('k6 v0.0.0-standin');
    expect(r.code).toBe(0);
    const args = readFileSync(k6.argsFile, 'utf8').trim().split('\n');
    expect(args).toEqual([
      'run',
      '--summary-export',
      join(out, 'k6-summary-export.json'),
      '-e',
      `K6_HARNESS_SUMMARY=${join(out, 'k6-summary.json')}`,
      '-e',
      `STACK_JSON=${join(ROOT, 'stack.json')}`,
      '-e',
      'RATE=5',
      '--vus',
      '3',
      join(ROOT, 'scenarios/k6/edit-storm.ts'),
    ]);
    expect(r.stdout).toContain('edit-storm: PASSED');
    expect(r.stdout).toContain("the harness's checkers did not run");
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Record<string, unknown>;
    expect(report).toMatchObject({ source: 'k6', scenario: 'edit-storm', exitCode: 0, environment: { loadGenerator: 'k6', summaryFormat: 'handleSummary', k6: 'k6 v0.0.0-standin (not k6)' } });
  });

  it("keeps k6's exit code and falls back to the --summary-export file", async () => {
    const k6 = standInK6('fail', { exported: 'edit-storm-summary.json', exit: 99 });
    const out = join(tmp, 'run-fail');
    const r = cli(['--out', out, 'steady'], baseEnv(k6.path));
    expect(r.code).toBe(99);
    expect(r.stdout).toContain('FAILED: threshold e2e_latency p(99)<500');
    const report = await readReport(join(out, 'report.json'));
    expect(report.environment).toMatchObject({ summaryFormat: 'summary-export' });
  });

  it('says so when k6 wrote no summary at all', () => {
    const k6 = standInK6('none', { exit: 107 });
    const r = cli(['--out', join(tmp, 'run-none'), 'chat-burst'], baseEnv(k6.path));
    expect(r.code).toBe(107);
    expect(r.stderr).toMatch(/k6 exited with 107 and wrote no summary/);
  });

  it('converts an existing summary with --convert, exiting with the verdict', async () => {
    const out = join(tmp, 'converted');
    const r = cli(['--convert', join(FIXTURES, 'edit-storm-handle-summary.json'), '--out', out], baseEnv('/nonexistent'));
    expect(r.code).toBe(0);
    expect((await readReport(join(out, 'report.json'))).scenario).toBe('edit-storm');
  });

  it('refuses bad usage with one line and exit code 2', () => {
    const env = baseEnv('/nonexistent');
    const missing = cli(['--convert', join(tmp, 'nope.json')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: .*nope\.json: no such file\n$/);
    const notJson = join(tmp, 'bad.json');
    writeFileSync(notJson, '{"metrics": {"ops": {"count": "x"}}}');
    expect(cli(['--convert', notJson], env).stderr).toMatch(/^error: summary\.metrics\.ops\.count: /);
    expect(cli(['no-such-script'], env)).toMatchObject({ code: 2, stderr: expect.stringMatching(/script 'no-such-script' not found; expected one of edit-storm, chat-burst, steady/) });
    expect(cli([], env).code).toBe(2);
    const help = cli(['--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('npm run load:k6 -- [options] [script] [k6-options...]');
  });
});
