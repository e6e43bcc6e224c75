import { describe, expect, it } from 'vitest';
import type { FaultEvent } from '../history/types.ts';
import { FAULT_TARGETS, offeredTargets, type FaultTargets } from '../stack/roles.ts';
import { FAULT_NAMES } from './catalogue.ts';
import { Nemesis } from './nemesis.ts';
import { checkFaultConnectorMode, faultTarget, parseFaultSpec } from './spec.ts';

describe('fault targets', () => {
  it('every fault in the catalogue says which part it breaks', () => {
    for (const name of FAULT_NAMES) expect(FAULT_TARGETS).toContain(faultTarget(name));
  });

  it('accepts a fault whose part the stack offers', () => {
    expect(parseFaultSpec('lambda-errors=0.3@1s:2s', FAULT_TARGETS)).toMatchObject({ name: 'lambda-errors' });
    expect(parseFaultSpec('pg-terminate@1s', ['postgres'])).toMatchObject({ name: 'pg-terminate' });
  });

  it('lambda-redeliver: a longest delay (default 3s) and a DURATION, on the realtime service that runs the rules', () => {
    expect(parseFaultSpec('lambda-redeliver=5s@2s:10s', FAULT_TARGETS)).toMatchObject({ name: 'lambda-redeliver', value: '5s', atMs: 2000, durationMs: 10_000 });
    expect(parseFaultSpec('lambda-redeliver@0:4s', FAULT_TARGETS)).toMatchObject({ name: 'lambda-redeliver', durationMs: 4000 });
    expect(() => parseFaultSpec('lambda-redeliver@1s')).toThrow(/needs a DURATION/);
    expect(() => parseFaultSpec('lambda-redeliver=soon@1s:2s')).toThrow(/value 'soon': expected a duration/);
    expect(() => parseFaultSpec('lambda-redeliver=0s@1s:2s')).toThrow(/value '0s'/);
    expect(() => parseFaultSpec('lambda-redeliver@1s:2s', ['lambda', 'postgres'])).toThrow(/needs the realtime service's admin/);
  });

  it('refuses at parse time, in one line naming the fault and the missing part', () => {
    expect(() => parseFaultSpec('lambda-errors=0.3@1s:2s', ['postgres'])).toThrow(/^--fault 'lambda-errors=0.3@1s:2s': lambda-errors needs the Lambda runtime's control; this stack does not offer it$/);
    expect(() => parseFaultSpec('rt-drop-all@1s', [])).toThrow(/rt-drop-all needs the realtime service's admin; a --target run offers no fault targets/);
    expect(() => parseFaultSpec('net-cut=writer-db@1s:1s', [])).toThrow(/needs link proxies/);
  });

  it('a stack offers the parts it has a field for, and nothing else', () => {
    expect(offeredTargets({})).toEqual([]);
    expect(offeredTargets({ links: {}, lambda: { setFault: async () => {} } })).toEqual(['lambda', 'links']);
  });
});

describe('the nemesis on fault targets', () => {
  const recorder = (events: FaultEvent[]) => ({ now: () => performance.now(), record: (e: FaultEvent) => void events.push(e) });

  it('refuses, before anything runs, a fault whose part the targets lack', () => {
    const targets: FaultTargets = { lambda: { setFault: async () => {} } };
    expect(() => new Nemesis([parseFaultSpec('connector-kill@0')], targets, recorder([]))).toThrow(/^--fault 'connector-kill@0': connector-kill needs a connector process the harness runs; this stack does not offer it$/);
  });

  it('breaks and restores the one part a fault needs, from a stack that has only that part', async () => {
    const calls: Array<{ fn: string; fault: object }> = [];
    const targets: FaultTargets = { lambda: { setFault: async (fn, fault) => void calls.push({ fn, fault }) } };
    const events: FaultEvent[] = [];
    let started!: () => void;
    const injected = new Promise<void>((r) => (started = r));
    const rec = recorder(events);
    const nemesis = new Nemesis([parseFaultSpec('lambda-errors=0.3@0:10ms')], targets, { ...rec, record: (e) => (rec.record(e), e.phase === 'start' && started()) }, 7);
    nemesis.start();
    // settle() cancels faults whose time has not come: wait until this one is in.
    await injected;
    await nemesis.settle();
    expect(nemesis.errors).toEqual([]);
    expect(calls).toEqual([
      { fn: 'chat-writer', fault: { errorRate: 0.3, seed: expect.any(Number) } },
      { fn: 'chat-writer', fault: {} },
    ]);
    expect(events.map((e) => [e.name, e.phase])).toEqual([
      ['lambda-errors', 'start'],
      ['lambda-errors', 'end'],
    ]);
  });
});

describe('faults that need a connector capture mode', () => {
  it('slot-lag is refused at parse time, in one line, unless the connector captures from the WAL', () => {
    const spec = parseFaultSpec('slot-lag=3s@2s', FAULT_TARGETS);
    expect(spec).toMatchObject({ name: 'slot-lag', value: '3s', atMs: 2000 });
    expect(() => checkFaultConnectorMode(spec, 'wal')).not.toThrow();
    expect(() => checkFaultConnectorMode(spec, 'durable')).toThrow(/^--fault 'slot-lag=3s@2s': slot-lag needs --connector-mode wal; this run's connector captures in durable mode$/);
    expect(() => checkFaultConnectorMode(parseFaultSpec('connector-kill@1s', FAULT_TARGETS), 'notify')).not.toThrow();
    expect(parseFaultSpec('slot-lag@2s', FAULT_TARGETS).value).toBeUndefined();
    expect(() => parseFaultSpec('slot-lag=soon@2s', FAULT_TARGETS)).toThrow(/value 'soon': expected a duration/);
  });
});
