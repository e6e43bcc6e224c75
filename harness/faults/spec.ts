/**
 * `--fault NAME[=VALUE]@TIME[:DURATION]`: one scheduled fault. TIME is from the start of the load;
 * DURATION is how long the fault lasts (for a crash: how long the part stays down).
 * Examples: `connector-kill@5s`, `connector-kill@5s:2s`, `lambda-errors=0.3@4s:6s`,
 * `net-latency=connector-db/80ms@3s:5s`, `pg-restart-fast@6s`.
 */
import { parseDuration } from '../lib/duration.ts';
import type { FaultTarget } from '../stack/index.ts';
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

/** `offers`: the fault targets of the stack the fault will run on; a fault needing another part is refused here. */
export function parseFaultSpec(raw: string, offers?: readonly FaultTarget[]): FaultSpec {
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
  if (offers) checkFaultTarget(spec, offers);
  return spec;
}

const TARGET_BY_PREFIX: Record<string, FaultTarget> = { connector: 'connector', pg: 'postgres', rt: 'realtime', lambda: 'lambda', net: 'links' };

const TARGET_NAMES: Record<FaultTarget, string> = {
  connector: 'a connector process the harness runs',
  postgres: 'a Postgres the harness controls',
  realtime: "the realtime service's admin",
  lambda: "the Lambda runtime's control",
  links: 'link proxies the harness runs',
};

/** The part of the stack a fault breaks: declared by the fault, or said by its name's prefix. */
export function faultTarget(name: FaultName): FaultTarget {
  const t = (FAULTS[name] as FaultDef).target ?? TARGET_BY_PREFIX[name.split('-')[0]!];
  // A new fault must say what it breaks, or it could not be refused where that part is missing.
  if (!t) throw new Error(`fault ${name} declares no target (FaultDef.target)`);
  return t;
}

/** Refuses, in one line naming the fault and the part, a fault whose target the stack does not offer. */
export function checkFaultTarget(spec: FaultSpec, offers: readonly FaultTarget[]): void {
  const t = faultTarget(spec.name);
  if (!offers.includes(t)) {
    const why = offers.length ? 'this stack does not offer it' : 'a --target run offers no fault targets';
    throw new Error(`--fault '${spec.raw}': ${spec.name} needs ${TARGET_NAMES[t]}; ${why}`);
  }
}

/** Refuses, in one line, a fault that works only under another connector capture mode than the run's. */
export function checkFaultConnectorMode(spec: FaultSpec, mode: string): void {
  const needs = (FAULTS[spec.name] as FaultDef).connectorMode;
  if (needs && needs !== mode) throw new Error(`--fault '${spec.raw}': ${spec.name} needs --connector-mode ${needs}; this run's connector captures in ${mode} mode`);
}
