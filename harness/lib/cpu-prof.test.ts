import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuProfFlags } from './cpu-prof.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('cpuProfFlags', () => {
  it('adds nothing unless STACK_CPU_PROF names a directory', () => {
    expect(cpuProfFlags('realtime', {})).toEqual([]);
  });

  it('makes a node process write its profile under DIR/<part>/ when it exits', () => {
    dir = mkdtempSync(join(tmpdir(), 'cpu-prof-'));
    const flags = cpuProfFlags('connector primary', { STACK_CPU_PROF: dir, STACK_CPU_PROF_INTERVAL_US: '500' });
    expect(flags).toContain('--cpu-prof-interval=500');
    const r = spawnSync(process.execPath, [...flags, '-e', 'let s = 0; for (let i = 0; i < 1e5; i++) s += i; process.exit(0)'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(readdirSync(join(dir, 'connector_primary')).filter((f) => f.endsWith('.cpuprofile'))).toHaveLength(1);
  });
});
