import { describe, expect, it } from 'vitest';
import { FAULT_TARGETS } from '../stack/index.ts';
import { FAULT_NAMES } from './catalogue.ts';
import { faultTarget, parseFaultSpec } from './spec.ts';

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
});
