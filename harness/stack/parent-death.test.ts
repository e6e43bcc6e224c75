import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freshDatabase } from '../testing/pg.ts';

const SCRIPT = fileURLToPath(new URL('./testing/stack-for-kill.ts', import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

/** Polls `cond` until it holds or the deadline passes; the children's exit has no event the test can await. */
async function eventually(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a stack whose parent is killed with SIGKILL', () => {
  it('leaves no part process, open port or config file behind', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, await freshDatabase()], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`stack script exited early with ${code}: ${stderr.slice(-500)}`)));
    });
    const { children, ports, configs } = JSON.parse(line) as { children: Array<{ part: string; pid: number }>; ports: number[]; configs: string[] };
    expect(children.map((c) => c.part).sort()).toEqual(['connector primary', 'functions', 'lambda', 'realtime']);
    expect(children.every((c) => alive(c.pid))).toBe(true);
    expect(await Promise.all(ports.map(refused))).toEqual(ports.map(() => false));
    // The connector's key is on disk only while it starts.
    expect(configs.length).toBe(1);
    expect(configs.some((f) => existsSync(f))).toBe(false);

    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(await eventually(() => children.every((c) => !alive(c.pid)), 15_000)).toBe(true);
    expect(await eventually(async () => (await Promise.all(ports.map(refused))).every(Boolean), 5_000)).toBe(true);
  }, 60_000);
});
