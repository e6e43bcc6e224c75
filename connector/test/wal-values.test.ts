import { describe, expect, it } from 'vitest';
import { ConfigError, parseConnectorConfig, parseEnvForm } from '../src/config.ts';
import { formatLsn, parseLsn } from '../src/lsn.ts';
import { renderRow, renderValue } from '../src/wal-values.ts';

const base = { connector: [{ tablename: 't', ablychannelname: 'c', operation: 'INSERT' }], dbConfig: { host: 'h' }, ably: { apiKey: 'a.b:c' } };

describe('wal values', () => {
  it('renders pgoutput text as row_to_json does', () => {
    expect(renderValue(23, '42')).toBe(42);
    expect(renderValue(20, '9007199254740991')).toBe(9007199254740991);
    expect(renderValue(1700, '1.50')).toBe(1.5);
    expect(renderValue(701, 'NaN')).toBe('NaN');
    expect(renderValue(16, 't')).toBe(true);
    expect(renderValue(16, 'f')).toBe(false);
    expect(renderValue(3802, '{"a": [1, 2]}')).toEqual({ a: [1, 2] });
    expect(renderValue(1184, '2026-12-05 06:00:00.123456+00')).toBe('2026-12-05T06:00:00.123456+00:00');
    expect(renderValue(1184, '2026-12-05 11:30:00+05:30')).toBe('2026-12-05T11:30:00+05:30');
    expect(renderValue(1114, '2026-12-05 06:00:00')).toBe('2026-12-05T06:00:00');
    expect(renderValue(25, 'it\'s text')).toBe("it's text");
  });

  it('keeps nulls and leaves out the columns the stream left out (unchanged TOAST without a full old row)', () => {
    const cols = [{ name: 'id', typeOid: 23 }, { name: 'body', typeOid: 25 }, { name: 'note', typeOid: 25 }];
    expect(renderRow(cols, { id: '1', body: undefined, note: null })).toEqual({ id: 1, note: null });
  });

  it('parses and formats WAL positions', () => {
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n);
    expect(formatLsn(parseLsn('0/1A2B'))).toBe('0/1A2B');
    expect(parseLsn('1/0') - parseLsn('0/FFFFFFFF')).toBe(1n);
    expect(() => parseLsn('nope')).toThrow(/WAL position/);
  });
});

describe('wal config', () => {
  it('accepts mode "wal" in both file forms, with replica identity per table', () => {
    const cfg = parseConnectorConfig({ ...base, extensions: { mode: 'wal', wal: { replicaIdentity: { t: 'default' }, slotName: 'my_slot' } } }, {});
    expect(cfg.mode).toBe('wal');
    expect(cfg.wal).toMatchObject({ replicaIdentity: { t: 'default' }, slotName: 'my_slot', unconsumedWarnSeconds: 60 });
    const env = parseEnvForm({ DB_HOST: 'h', ABLY_API_KEY: 'a.b:c', ABLY_CONNECTOR: JSON.stringify(base.connector), ABLY_CONNECTOR_EXTENSIONS: '{"mode":"wal"}' }, {});
    expect(env.mode).toBe('wal');
  });

  it('names the field of a bad wal setting', () => {
    expect(() => parseConnectorConfig({ ...base, extensions: { mode: 'wal', wal: { slotName: 'Bad-Name' } } }, {})).toThrow(/config\.extensions\.wal\.slotName: expected 1-63 characters/);
    expect(() => parseConnectorConfig({ ...base, extensions: { wal: { replicaIdentity: { other: 'full' } } } }, {})).toThrow(ConfigError);
    expect(() => parseConnectorConfig({ ...base, extensions: { wal: { replicaIdentity: { other: 'full' } } } }, {})).toThrow(/wal\.replicaIdentity\.other: no mapping names table "other"/);
    expect(() => parseConnectorConfig({ ...base, extensions: { mode: 'logical' } }, {})).toThrow(/config\.extensions\.mode/);
  });
});
