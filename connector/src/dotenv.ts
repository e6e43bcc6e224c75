/**
 * A small .env reader (KEY=value lines, `#` comments, optional `export`, single or double quotes),
 * so the connector ships without another dependency. Values are never interpolated.
 */
import { ConfigError } from './errors.ts';

export function parseDotenv(text: string, source = '.env'): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(`${source}:${i + 1}: expected KEY=value`);
    const key = m[1]!;
    let value = m[2]!;
    const q = value[0];
    if (q === '"' || q === "'") {
      const end = value.lastIndexOf(q);
      if (end <= 0) throw new ConfigError(`${source}:${i + 1}: unterminated quote in ${key}`);
      value = value.slice(1, end);
      if (q === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"');
    } else {
      // An unquoted value ends at an inline comment, as dotenv reads it.
      const hash = value.search(/\s#/);
      if (hash >= 0) value = value.slice(0, hash);
      value = value.trim();
    }
    out[key] = value;
  }
  return out;
}
