/**
 * Postgres renders timestamptz with microseconds ("2026-12-05 06:21:00.123456+00" or the ISO
 * form json uses); Date.parse keeps milliseconds only. Stages of a few hundred microseconds need
 * the rest, so this returns epoch milliseconds with the microseconds as the fraction.
 * NaN when the text is not a timestamp.
 */
export function epochMsMicros(text: string): number {
  const m = /^(.*?\d{2}:\d{2}:\d{2})(?:\.(\d+))?(.*)$/.exec(text.trim());
  if (!m) return Number.NaN;
  const whole = Date.parse(`${m[1]!.replace(' ', 'T')}${normalizeZone(m[3]!)}`);
  const fraction = m[2] ? Number(`0.${m[2].slice(0, 6)}`) * 1000 : 0;
  return whole + fraction;
}

/** "+00" (Postgres' text form) is not ISO; "+00:00" and "Z" are. */
function normalizeZone(zone: string): string {
  const z = zone.trim();
  return /^[+-]\d{2}$/.test(z) ? `${z}:00` : z;
}
