/**
 * pgoutput sends column values as text. The other modes publish a row as Postgres's row_to_json
 * writes it, so subscribers must not see a different shape in wal mode: numbers and booleans as
 * JSON values, json/jsonb parsed, timestamps in ISO 8601 with a `T`. Every other type stays the
 * text Postgres gave (arrays and composites included, where row_to_json would nest them).
 */
const NUMBER_TYPES = new Set([20, 21, 23, 26, 700, 701, 1700]);
const BOOL = 16;
const JSON_TYPES = new Set([114, 3802]);
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;

export interface ColumnType {
  name: string;
  typeOid: number;
}

/** ISO text as to_json writes it: `2026-12-05 06:00:00.5+00` -> `2026-12-05T06:00:00.5+00:00`. */
function isoTimestamp(text: string, withZone: boolean): string {
  const t = text.replace(' ', 'T');
  return withZone && /[+-]\d\d$/.test(t) ? `${t}:00` : t;
}

export function renderValue(typeOid: number, text: string): unknown {
  if (NUMBER_TYPES.has(typeOid)) {
    const n = Number(text);
    // to_json writes NaN and the infinities as strings.
    return Number.isFinite(n) ? n : text;
  }
  if (typeOid === BOOL) return text === 't';
  if (JSON_TYPES.has(typeOid)) return JSON.parse(text) as unknown;
  if (typeOid === TIMESTAMPTZ) return isoTimestamp(text, true);
  if (typeOid === TIMESTAMP) return isoTimestamp(text, false);
  return text;
}

/**
 * A decoded tuple (text values, null, or undefined for an unchanged TOASTed value the stream left
 * out) as a row object. Columns the stream left out are left out of the row, not made null.
 */
export function renderRow(columns: readonly ColumnType[], tuple: Record<string, unknown>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const c of columns) {
    const v = tuple[c.name];
    if (v === undefined) continue;
    row[c.name] = v === null ? null : typeof v === 'string' ? renderValue(c.typeOid, v) : v;
  }
  return row;
}
