import { describe, expect, it } from 'vitest';
import { FAULT_TARGETS } from '../stack/index.ts';
import { FAULT_NAMES } from './catalogue.ts';
import { checkFaultConnectorMode, faultTarget, parseFaultSpec } from './spec.ts';

describe('fault targets', () => {
  it('every fault in the catalogue says which part it breaks', () => {
    for (const name of FAULT_NAMES) expect(FAULT_TARGETS).toContain(faultTarget(name));
  });

  it('accepts a fault whose part the stack offers', () => {
    expect(parseFaultSpec('lambda-errors=0.3@1s:2s', FAULT_TARGETS)).toMatchObject({ name: 'lambda-errors' });
    expect(parseFaultSpec('pg-terminate@1s', ['postgres'])).toMatchObject({ name: 'pg-terminate' });
  });

  it('refuses at parse time, in one line naming the fault and the missing part', () => {
    expect(() => parseFaultSpec('lambda-errors=0.3@1s:2s', ['postgres'])).toThrow(/^--fault 'lambda-errors=0.3@1s:2s': lambda-errors needs the Lambda runtime's control; this stack does not offer it$/);
    expect(() => parseFaultSpec('rt-drop-all@1s', [])).toThrow(/rt-drop-all needs the realtime service's admin; a --target run offers no fault targets/);
    expect(() => parseFaultSpec('net-cut=writer-db@1s:1s', [])).toThrow(/needs link proxies/);
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
