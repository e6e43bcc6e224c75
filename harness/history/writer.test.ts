import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simulate } from './simulate.ts';
import { HistoryWriter, readHistory, readRun, writeFinalState } from './writer.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'history-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('HistoryWriter', () => {
  it('writes run-start first, events in record order, run-end last, on one monotonic clock', async () => {
    const dir = await tempDir();
    const path = join(dir, 'history.ndjson');
    const w = await HistoryWriter.open(path, { scenario: 'unit', seed: 7, options: { rate: 5 }, flushBytes: 64 });
    for (let i = 0; i < 500; i++) {
      w.record({ type: 'invoke', opId: `op-${i}`, op: 'post', client: 'c1', room: 'r', messageId: `op-${i}`, text: `post ${i}` });
    }
    w.record({ type: 'ack', opId: 'op-0', t: 1.5 });
    await w.close();
    const history = await readHistory(path);
    expect(history).toHaveLength(503);
    const start = history[0]!;
    expect(start).toMatchObject({ type: 'run-start', t: 0, scenario: 'unit', seed: 7, options: { rate: 5 } });
    if (start.type !== 'run-start') throw new Error('unreachable');
    // The file carries the writer's own epoch, the instant its times count from: no clock read needed to judge it.
    expect(start.epochMs).toBe(w.epochMs);
    expect(w.fromEpoch(start.epochMs)).toBe(0);
    expect(history.at(-1)!.type).toBe('run-end');
    const invokes = history.filter((e) => e.type === 'invoke');
    expect(invokes.map((e) => (e.type === 'invoke' ? e.opId : ''))).toEqual(
      Array.from({ length: 500 }, (_, i) => `op-${i}`),
    );
    for (let i = 1; i < invokes.length; i++) expect(invokes[i]!.t).toBeGreaterThanOrEqual(invokes[i - 1]!.t);
    // An explicit time is kept, and reading back puts the event where its time is (clock order).
    expect(history.find((e) => e.type === 'ack')).toEqual({ type: 'ack', opId: 'op-0', t: 1.5 });
    for (let i = 1; i < history.length; i++) expect(history[i]!.t).toBeGreaterThanOrEqual(history[i - 1]!.t);
    expect(w.recorded).toBe(503);
  });

  it('takes lines serialised elsewhere (worker threads) and reads the whole history back in clock order', async () => {
    const dir = await tempDir();
    const path = join(dir, 'history.ndjson');
    const w = await HistoryWriter.open(path, { scenario: 'unit', seed: 1 });
    w.record({ type: 'ack', opId: 'a', t: 5 });
    // A worker's batch that arrives after a later main-thread event.
    const batch = [{ type: 'ack', opId: 'b', t: 3 }, { type: 'ack', opId: 'c', t: 4 }].map((e) => JSON.stringify(e) + '\n').join('');
    w.appendLines(batch, 2);
    w.record({ type: 'ack', opId: 'd', t: 4 });
    // Batches come as UTF-8 bytes too, between text lines.
    w.appendLines(new TextEncoder().encode(JSON.stringify({ type: 'fail', opId: 'é😀', error: '中', t: 6 }) + '\n'), 1);
    await w.close();
    expect(w.recorded).toBe(7);
    const history = await readHistory(path);
    const acks = history.filter((e) => e.type === 'ack');
    expect(acks.map((e) => (e.type === 'ack' ? e.opId : ''))).toEqual(['b', 'c', 'd', 'a']);
    expect(history.find((e) => e.type === 'fail')).toEqual({ type: 'fail', opId: 'é😀', error: '中', t: 6 });
  });

  it('flushes on its timer without close, and converts epoch times to run time', async () => {
    const dir = await tempDir();
    const path = join(dir, 'history.ndjson');
    const w = await HistoryWriter.open(path, { scenario: 'unit', seed: 1, flushIntervalMs: 5 });
    w.record({ type: 'health', eventLoopDelayP99Ms: 3, cpuPercent: 20 });
    const deadline = Date.now() + 5000;
    let text = '';
    while (Date.now() < deadline) {
      text = await readFile(path, 'utf8');
      if (text.includes('"health"')) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(text.split('\n').filter(Boolean)).toHaveLength(2);
    expect(w.fromEpoch(w.epochMs + 12.5)).toBe(12.5);
    await w.close();
    await w.close();
    expect(() => w.record({ type: 'ack', opId: 'x' })).toThrow(/closed/);
  });
});

describe('readHistory / readRun', () => {
  it('round-trips a run directory', async () => {
    const dir = await tempDir();
    const run = simulate({
      clients: [{ id: 'a', room: 'r' }, { id: 'b', room: 'r' }],
      ops: [{ t: 1, op: 'post', client: 'a', id: 'm1' }, { t: 5, op: 'edit', client: 'a', target: 'm1' }],
    });
    await writeFile(join(dir, 'history.ndjson'), run.history.map((e) => JSON.stringify(e)).join('\n') + '\n');
    await writeFinalState(join(dir, 'final-state.json'), run.final);
    const back = await readRun(dir);
    expect(back).toEqual(run);
  });

  it('names the line and the field of a bad event', async () => {
    const dir = await tempDir();
    const path = join(dir, 'history.ndjson');
    const lines = [
      { type: 'run-start', t: 0, scenario: 's', seed: 1, epochMs: 1, options: {} },
      { type: 'ack', t: 1, opId: 'a' },
      { type: 'receive', t: 2, client: 'c', room: 'r', eventId: 'e', name: 'INSERT', messageId: 'm', version: 'two', deleted: false, text: '', author: 'c', applied: true },
    ];
    await writeFile(path, lines.map((l) => JSON.stringify(l)).join('\n'));
    await expect(readHistory(path)).rejects.toThrow(/history\.ndjson:3: receive event, field 'version'/);
    await writeFile(path, JSON.stringify(lines[0]) + '\n{oops\n');
    await expect(readHistory(path)).rejects.toThrow(/:2: not JSON/);
    await writeFile(path, JSON.stringify(lines[1]) + '\n');
    await expect(readHistory(path)).rejects.toThrow(/:1: expected a run-start/);
    await writeFile(path, JSON.stringify(lines[0]) + '\n' + JSON.stringify({ type: 'bogus', t: 1 }) + '\n');
    await expect(readHistory(path)).rejects.toThrow(/:2: bogus event, field 'type'/);
  });

  it('rejects a final state with a bad row, naming the field', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'history.ndjson'), JSON.stringify({ type: 'run-start', t: 0, scenario: 's', seed: 1, epochMs: 1, options: {} }));
    await writeFile(join(dir, 'final-state.json'), JSON.stringify({ rows: [{ id: 'm' }], rejections: [] }));
    await expect(readRun(dir)).rejects.toThrow(/final-state\.json: field 'rows\.0\.room'/);
  });
});
