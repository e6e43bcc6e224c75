import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listen } from '../lib/ports.ts';

const CLI = join(import.meta.dirname, 'chat.ts');

async function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stderr };
}

describe('npm run chat', () => {
  it('says when its port is taken, before starting anything, and refuses a bad --port', async () => {
    const blocker = createServer();
    const port = await listen(blocker, 0, '127.0.0.1');
    try {
      const taken = await run(['--port', String(port)]);
      expect(taken.code).toBe(1);
      expect(taken.stderr).toContain(`port ${port} is taken`);
      expect(taken.stderr).toContain('--port');
    } finally {
      blocker.close();
    }
    const bad = await run(['--port', 'http']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port: expected an integer');
  });
});
