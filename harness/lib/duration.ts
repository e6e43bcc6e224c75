/** Durations as users write them on command lines and in fault specs, with errors that name the flag. */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "30s", "2m", "1500ms", "1.5s", or a bare number of seconds; `flag` names the option in errors. */
export function parseDuration(value: string, flag = '--duration'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new Error(`${flag} '${value}' is not a duration; expected e.g. 30s, 2m or 1500ms`);
  const ms = Number(m[1]) * UNITS[m[2] ?? 's']!;
  if (ms <= 0) throw new Error(`${flag} '${value}' must be longer than zero`);
  return ms;
}
