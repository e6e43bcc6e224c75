import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Clients } from './testing.ts';
import type { StartedRealtime } from './index.ts';

const CLI = join(import.meta.dirname, '../cli/realtime.ts');
const children: ChildProcess[] = [];

function run(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

async function finish(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('npm run realtime', () => {
  it('prints its endpoint when ready, serves clients, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rt-cli-'));
    const config = join(dir, 'realtime.json');
    writeFileSync(config, JSON.stringify({ keys: [{ key: 'app.file:filesecret', capability: { 'pub:*': ['publish'] } }], maxMessageSize: 4096 }));
    const child = run(['--port', '0', '--config', config, '--key', 'app.cli:clisecret', '--json', '--log-level', 'silent']);
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d;
        if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code} before ready`)));
    });
    const ep = JSON.parse(line) as { host: string; port: number; tls: boolean; apiKey: string };
    expect(ep).toMatchObject({ host: '127.0.0.1', tls: false, apiKey: 'app.cli:clisecret' });
    const clients = new Clients({ clientOptions: () => ({ endpoint: ep.host, port: ep.port, tls: false }), apiKey: ep.apiKey } as unknown as StartedRealtime);
    const c = await clients.connected();
    await c.channels.get('any').publish('ok', 'works');
    clients.closeAll();
    child.kill('SIGTERM');
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect(code ?? signal).toBe(143);
  });

  it('prints help and exits 0', async () => {
    const r = await finish(run(['--help']));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--port');
    expect(r.stdout).toContain('--key');
  });

  it.each([
    [['--port', 'abc'], 'invalid --port'],
    [['--key', 'not-a-key'], 'invalid --key'],
    [['--nope'], "unknown option '--nope'"],
    [['--config', '/no/such/file.json'], 'cannot read --config'],
  ])('exits 2 with a one-line reason for %j', async (args, reason) => {
    const r = await finish(run(args));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(reason);
  });
});
