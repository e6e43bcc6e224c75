import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function run(args: string[], env: Record<string, string> = {}, entry = join(ROOT, 'connector', 'src', 'cli.ts')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('connector CLI', () => {
  it('prints help and exits 0', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--config <file>/);
    expect(r.stdout).toMatch(/--http-port <port>/);
  });

  it('exits 2 with a one-line reason on bad usage or a bad config', () => {
    const missing = run([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/--config <file> and --from-env/);

    const badPort = run(['--config', 'x.json', '--http-port', 'many']);
    expect(badPort.code).toBe(2);

    const dir = mkdtempSync(join(tmpdir(), 'connector-cli-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ connector: [{ tablename: 't', ablychannelname: 'c', operation: 'MERGE' }], dbConfig: { host: 'h' }, ably: { apiKey: 'a.b:c' } }));
    const r = run(['--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: invalid connector config: config\.connector\[0\]\.operation/);
  });
});

const WITH_DEFECTS = join(ROOT, 'connector', 'testing', 'cli-with-defects.ts');

describe('connector CLI with planted defects (testing/, never shipped)', () => {
  it('refuses to start without a known --planted-defect first', () => {
    const r = run(['--planted-defect', 'nope', '--help'], {}, WITH_DEFECTS);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--planted-defect publish-without-waiting/);
  });

  it('passes the rest to the CLI', () => {
    const r = run(['--planted-defect', 'publish-without-waiting', '--help'], {}, WITH_DEFECTS);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--config <file>/);
  });
});
