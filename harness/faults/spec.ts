/**
 * `--fault NAME[=VALUE]@TIME[:DURATION]`: one scheduled fault. TIME is from the start of the load;
 * DURATION is how long the fault lasts (for a crash: how long the part stays down).
 * Examples: `connector-kill@5s`, `connector-kill@5s:2s`, `lambda-errors=0.3@4s:6s`,
 * `net-latency=connector-db/80ms@3s:5s`, `pg-restart-fast@6s`.
 */
import { parseDuration } from '../lib/duration.ts';
import { FAULTS, FAULT_NAMES, type FaultDef, type FaultName } from './catalogue.ts';

export interface FaultSpec {
  name: FaultName;
  value?: string;
  atMs: number;
  durationMs?: number;
  /** As the user wrote it, for messages and the report. */
  raw: string;
}

const FORM = /^([a-z][a-z0-9-]*)(?:=([^@]+))?@([^:]+)(?::(.+))?$/;

export function parseFaultSpec(raw: string): FaultSpec {
  const m = FORM.exec(raw.trim());
  if (!m) throw new Error(`--fault '${raw}': expected NAME[=VALUE]@TIME[:DURATION], e.g. connector-kill@5s or lambda-errors=0.3@4s:6s`);
  const [, name, value, at, dur] = m;
  if (!(FAULT_NAMES as string[]).includes(name!)) throw new Error(`--fault '${raw}': unknown fault '${name}'; expected one of: ${FAULT_NAMES.join(', ')}`);
  const def: FaultDef = FAULTS[name as FaultName];
  const when = (s: string, what: string) => {
    if (/^0+(\.0+)?(ms|s|m|h)?$/.test(s.trim())) return 0;
    try {
      return parseDuration(s);
    } catch {
      throw new Error(`--fault '${raw}': ${what} '${s}' is not a duration (e.g. 500ms, 5s, 1m)`);
    }
  };
  const spec: FaultSpec = { name: name as FaultName, atMs: when(at!, 'TIME'), raw };
  if (dur !== undefined) spec.durationMs = when(dur, 'DURATION');
  if (value !== undefined) spec.value = value;
  if (def.value && value === undefined && def.value.default === undefined) throw new Error(`--fault '${raw}': ${name} needs a value: ${def.value.help}`);
  if (!def.value && value !== undefined) throw new Error(`--fault '${raw}': ${name} takes no value`);
  if (def.value && value !== undefined) {
    const problem = def.value.check(value);
    if (problem) throw new Error(`--fault '${raw}': value '${value}': ${problem}`);
  }
  if (def.needsDuration && spec.durationMs === undefined) throw new Error(`--fault '${raw}': ${name} needs a DURATION (NAME@TIME:DURATION)`);
  return spec;
}
