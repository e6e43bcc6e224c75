/** Parsing of the scenario command's option values, with errors that name the flag. */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "30s", "2m", "1500ms", "1.5s", or a bare number of seconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new Error(`--duration '${value}' is not a duration; expected e.g. 30s, 2m or 1500ms`);
  const ms = Number(m[1]) * UNITS[m[2] ?? 's']!;
  if (ms <= 0) throw new Error(`--duration '${value}' must be longer than zero`);
  return ms;
}
