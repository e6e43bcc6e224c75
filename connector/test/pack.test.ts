/**
 * The connector ships alone: `npm pack` in connector/ builds dist/ and packs only what ships,
 * and the tarball installed into an empty project (dependencies from the npm registry) runs its
 * bin. Slow (a build and an install from the registry, about 30-60 s) and needs the registry.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CONNECTOR_DIR = join(import.meta.dirname, '..');
const dirs: string[] = [];

/** npm with none of the npm_* variables an enclosing `npm test` sets (they would point npm at the root package). */
function npm(args: string[], cwd: string, timeoutMs = 240_000) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
  return run('npm', args, { cwd, env: { ...env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' }, timeout: timeoutMs, maxBuffer: 16 << 20 });
}

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('connector package', () => {
  it('packs dist/ and examples only, installs into an empty project, and its bin prints the help', async () => {
    const out = tempDir('connector-pack-');
    const packed = await npm(['pack', '--json', '--pack-destination', out], CONNECTOR_DIR);
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = info!.files.map((f) => f.path);
    expect(files).toContain('dist/cli.js');
    expect(files).toContain('dist/index.js');
    expect(files.filter((f) => !/^(dist\/|examples\/|package\.json$|README\.md$)/.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const tarball = join(out, readdirSync(out).find((f) => f.endsWith('.tgz'))!);

    const project = tempDir('connector-install-');
    await npm(['init', '-y'], project);
    await npm(['install', tarball], project);
    const help = await run(join(project, 'node_modules', '.bin', 'ably-pg-connector'), ['--help'], { cwd: project, timeout: 20_000 });
    expect(help.stdout).toMatch(/^Usage: ably-pg-connector/);
    expect(help.stdout).toMatch(/--config <file>/);
  }, 300_000);
});
