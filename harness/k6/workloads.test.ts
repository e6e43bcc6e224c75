/**
 * The k6 scripts restate the harness's scenarios (k6 cannot import the harness): these tests keep
 * the two equal, and check the scripts' environment parsing and operation planning.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findScenario } from '../../scenarios/index.ts';
import { parseConfig, roomName, userName } from '../../scenarios/k6/lib/config.ts';
import { Planner } from '../../scenarios/k6/lib/planner.ts';
import { arrivalsBy, workloads, type Workload } from '../../scenarios/k6/lib/workloads.ts';
import { arrivalsBy as harnessArrivalsBy, ExecutorSchema } from '../workload/executors.ts';

describe('k6 workloads', () => {
  it.each(workloads.map((w) => [w.name, w] as const))('%s matches the harness scenario', (name, w: Workload) => {
    const s = findScenario(name);
    expect(s, `scenarios/${name}.ts`).toBeDefined();
    expect(w.description).toBe(s!.description);
    expect(w.defaults).toEqual(s!.defaults);
    expect(w.mix).toEqual(s!.mix);
    expect(w.hot).toEqual(s!.hot);
    expect(w.thresholds).toEqual(s!.thresholds);
    expect(w.executor(w.defaults)).toEqual(s!.executor({ ...s!.defaults, seed: 1 }));
  });

  it('schedules the same number of arrivals as the harness executors at every moment', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...workloads),
        fc.double({ min: 0.5, max: 500, noNaN: true }),
        fc.integer({ min: 1000, max: 120_000 }),
        fc.integer({ min: 0, max: 130_000 }),
        (w, rate, durationMs, t) => {
          const o = { ...w.defaults, rate, durationMs };
          const mine = arrivalsBy(w.executor(o), t);
          const theirs = harnessArrivalsBy(ExecutorSchema.parse(w.executor(o)), t);
          expect(mine).toBeCloseTo(theirs, 6);
        },
      ),
    );
  });
});

describe('k6 run configuration', () => {
  const stack = JSON.stringify({ loginUrl: 'http://127.0.0.1:4000/api/login', tokenUrl: 'http://127.0.0.1:4000/api/token', realtime: { host: '127.0.0.1', port: 4100, tls: false, apiKey: 'x' } });
  const edit = workloads[0]!;

  it('takes endpoints from the stack JSON and options from the environment', () => {
    const c = parseConfig(edit, { DURATION: '1500ms', RATE: '7.5', USERS: '3', ROOMS: '2', READERS: '0', SEED: '42', DRAIN: '2s' }, stack);
    expect(c.realtime).toEqual({ host: '127.0.0.1', port: 4100, tls: false });
    expect(c.loginUrl).toBe('http://127.0.0.1:4000/api/login');
    expect(c.options).toEqual({ durationMs: 1500, rate: 7.5, users: 3, rooms: 2, readers: 0 });
    expect(c).toMatchObject({ seed: 42, drainMs: 2000, joinMs: 3000, runTag: undefined });
  });

  it('targets Ably itself when no host is set, and the environment wins over the stack file', () => {
    const real = parseConfig(edit, { LOGIN_URL: 'https://chat.example/api/login', TOKEN_URL: 'https://chat.example/api/token' });
    expect(real.realtime).toEqual({ host: 'main.realtime.ably.net', port: 443, tls: true });
    const local = parseConfig(edit, { ABLY_HOST: '10.0.0.5', ABLY_PORT: '8081', ABLY_TLS: 'false' }, stack);
    expect(local.realtime).toEqual({ host: '10.0.0.5', port: 8081, tls: false });
  });

  it.each([
    [{ RATE: 'fast' }, /^RATE: expected a positive number of operations per second, got "fast"$/],
    [{ USERS: '1.5' }, /^USERS: expected a positive integer, got "1.5"$/],
    [{ DURATION: '10 minutes' }, /^DURATION: expected a duration such as 30s, 2m or 1500ms, got "10 minutes"$/],
    [{ ABLY_TLS: 'yes' }, /^ABLY_TLS: expected "true" or "false", got "yes"$/],
    [{ ABLY_PORT: '70000' }, /^ABLY_PORT: expected a port number 1-65535, got "70000"$/],
    [{ RUN_TAG: 'Has Space' }, /^RUN_TAG: expected 1-12 lowercase letters or digits/],
    [{ LOGIN_URL: 'chat.example/login' }, /^LOGIN_URL: expected an http\(s\) URL, got "chat.example\/login"$/],
  ])('refuses %j naming the variable and what was expected', (env, message) => {
    expect(() => parseConfig(edit, env, stack)).toThrow(message);
  });

  it('asks for endpoints when there are none', () => {
    expect(() => parseConfig(edit, {})).toThrow(/^LOGIN_URL: expected an http\(s\) URL \(set LOGIN_URL or STACK_JSON\)$/);
  });

  it('names rooms and users within the chat limits', () => {
    expect(roomName('abcdef123456', 99)).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(userName('abcdef123456', 'w', 99999).length).toBeLessThanOrEqual(32);
  });
});

describe('k6 planner', () => {
  it('edits only own posts, prefers hot ones, never deletes hot ones, and is reproducible', () => {
    const run = (seed: number) => {
      const p = new Planner({ post: 0.3, edit: 0.6, delete: 0.1, typing: 0 }, { perUser: 2, skew: 0.9 }, seed);
      const ops = [];
      for (let i = 0; i < 400; i++) {
        const op = p.next();
        if (op.kind === 'post') p.ownPosts.push(`m${p.ownPosts.length}`);
        ops.push(op);
      }
      return { p, ops };
    };
    const { p, ops } = run(5);
    expect(run(5).ops).toEqual(ops);
    const edits = ops.filter((o) => o.kind === 'edit');
    const deletes = ops.filter((o) => o.kind === 'delete');
    expect(edits.every((e) => p.ownPosts.includes(e.target))).toBe(true);
    expect(deletes.some((d) => d.target === 'm0' || d.target === 'm1')).toBe(false);
    const hotShare = edits.filter((e) => e.target === 'm0' || e.target === 'm1').length / edits.length;
    expect(hotShare).toBeGreaterThan(0.8);
  });
});
