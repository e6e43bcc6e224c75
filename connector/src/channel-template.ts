/**
 * Channel names filled from row columns, e.g. `chat:{room}:incoming`: one table feeds one channel
 * per room. Parsed once at config time; rendered per change.
 */
export interface ChannelTemplate {
  /** Literal text at even indexes, column names at odd indexes. */
  parts: string[];
  columns: string[];
}

export function parseChannelTemplate(text: string): ChannelTemplate {
  const parts: string[] = [];
  const columns: string[] = [];
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const col = m[1]!;
    if (!col) throw new Error(`empty {} placeholder in ${JSON.stringify(text)}`);
    parts.push(text.slice(last, m.index), col);
    columns.push(col);
    last = m.index + m[0].length;
  }
  const tail = text.slice(last);
  if (/[{}]/.test(tail) || parts.some((p, i) => i % 2 === 0 && /[{}]/.test(p))) {
    throw new Error(`unbalanced brace in ${JSON.stringify(text)}; placeholders look like {column}`);
  }
  parts.push(tail);
  return { parts, columns };
}

/** Returns the channel name, or an error naming the column whose value cannot name a channel. */
export function renderChannel(t: ChannelTemplate, row: Record<string, unknown>): { channel: string } | { error: string } {
  if (t.columns.length === 0) return { channel: t.parts[0]! };
  let out = '';
  for (let i = 0; i < t.parts.length; i++) {
    if (i % 2 === 0) {
      out += t.parts[i];
      continue;
    }
    const col = t.parts[i]!;
    const v = row[col];
    if (v === null || v === undefined || v === '') return { error: `column ${col} is ${v === '' ? 'empty' : 'null or missing'}` };
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      return { error: `column ${col} is not a scalar` };
    }
    out += String(v);
  }
  // A leading "[" would be read by Ably as channel parameters, not as part of the name.
  if (out.startsWith('[') && !t.parts[0]!.startsWith('[')) return { error: `channel name ${JSON.stringify(out)} starts with "["` };
  return { channel: out };
}
