import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { PartProcess } from './part-process.ts';
import { echoSpec } from './testing/echo-part.ts';

const ENTRY = fileURLToPath(new URL('./testing/echo-part.ts', import.meta.url));
const started: Array<PartProcess<typeof echoSpec>> = [];
const part = (config: { greeting: string; failStart?: boolean }) => {
  const p = new PartProcess('echo part', ENTRY, echoSpec, config);
  started.push(p);
  return p;
};

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

describe('a stack part in its own process', () => {
  it('starts, reports ready with its endpoints, and answers typed requests', async () => {
    const p = part({ greeting: 'hello' });
    const info = await p.start();
    expect(info.greeting).toBe('hello');
    expect(info.pid).toBe(p.pid());
    expect(info.pid).not.toBe(process.pid);
    expect(await p.request('echo', { text: 'there' })).toEqual({ text: 'hello there' });
  });

  it("rejects bad params naming the field, and carries the part's own errors", async () => {
    const p = part({ greeting: 'hi' });
    await p.start();
    await expect(p.request('echo', { text: 7 } as unknown as { text: string })).rejects.toThrow(/echo part\.echo: text:/);
    await expect(p.request('boom', {})).rejects.toThrow(/boom, as asked/);
    expect(await p.request('echo', { text: 'still up' })).toEqual({ text: 'hi still up' });
  });

  it('streams events only to subscribers, in order, batched', async () => {
    const p = part({ greeting: 'hi' });
    await p.start();
    const seen: number[] = [];
    const got = new Promise<void>((resolve) => {
      const off = p.on('ticks', (items) => {
        seen.push(...items);
        if (seen.length >= 50) (off(), resolve());
      });
    });
    await p.request('tick', { n: 50 });
    await got;
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('refuses a bad config before spawning, naming the field', () => {
    expect(() => part({ greeting: 3 } as unknown as { greeting: string })).toThrow(/echo part config: greeting/);
  });

  it('fails start with the reason the part gave, and leaves no process', async () => {
    const p = part({ greeting: 'x', failStart: true });
    await expect(p.start()).rejects.toThrow(/refusing to start, as asked/);
    expect(p.running).toBe(false);
  });

  it('stops on SIGTERM; a request to a stopped part fails at once', async () => {
    const p = part({ greeting: 'x' });
    await p.start();
    const pid = p.pid()!;
    await p.stop();
    expect(p.running).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
    await expect(p.request('echo', { text: 'x' })).rejects.toThrow(/not running/);
  });
});
