import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ORIGINAL_MESSAGE_NAME, loadConnectorConfig, parseConnectorConfig } from '../src/config.ts';
import { renderChannel } from '../src/channel-template.ts';

const examples = join(import.meta.dirname, '..', 'examples');
const KEY = { ABLY_API_KEY: 'app.key:secret' };
const base = { connector: [{ tablename: 't', ablychannelname: 'c', operation: 'INSERT' }], dbConfig: { host: 'h' }, ably: { apiKey: 'a.b:c' } };

function tmpFile(name: string, text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'conncfg-')), name);
  writeFileSync(p, text);
  return p;
}

describe('config', () => {
  it("reads the original's JSON example unchanged", () => {
    const cfg = loadConnectorConfig(join(examples, 'original.json'), KEY);
    expect(cfg.db).toEqual({ host: 'db', port: 5432, user: 'postgres', password: 'postgres', database: 'mydb' });
    expect(cfg.mappings.map((m) => [m.tablename, m.ablychannelname, m.operation])).toEqual([
      ['users', 'ablyusersins', 'INSERT'],
      ['users', 'ablyusersupt', 'UPDATE'],
      ['users', 'ablyusersdel', 'DELETE'],
    ]);
    expect(cfg.mode).toBe('durable');
    expect(cfg.messageName).toBe('operation');
    expect(cfg.realtime).toEqual({ apiKey: 'app.key:secret', tls: true });
  });

  it("reads the original's .env example unchanged", () => {
    const cfg = loadConnectorConfig(join(examples, 'original.env'), KEY);
    expect(cfg.db).toEqual({ host: 'db', port: 5432, user: 'postgres', password: 'postgres', database: 'mydb' });
    expect(cfg.mappings.map((m) => m.ablychannelname)).toEqual(['ably-users-added', 'ably-users-updated', 'ably-users-removed']);
  });

  it('lets the environment win for the realtime target', () => {
    const cfg = parseConnectorConfig(
      { ...base, extensions: { realtime: { host: 'file-host', port: 1, tls: true } } },
      { ABLY_API_KEY: 'x.y:z', ABLY_HOST: '127.0.0.1', ABLY_PORT: '8081', ABLY_TLS: 'false' },
    );
    expect(cfg.realtime).toEqual({ apiKey: 'x.y:z', host: '127.0.0.1', port: 8081, tls: false });
  });

  it('names unknown keys, at any depth', () => {
    expect(() => parseConnectorConfig({ ...base, extra: 1 }, {})).toThrow(/unknown key extra/);
    expect(() => parseConnectorConfig({ ...base, extensions: { modes: 'durable' } }, {})).toThrow(/unknown key config\.extensions\.modes/);
    expect(() => parseConnectorConfig({ ...base, connector: [{ ...base.connector[0], channel: 'x' }] }, {})).toThrow(
      /unknown key config\.connector\[0\]\.channel/,
    );
    const env = tmpFile('bad.env', 'DB_HOST=h\nABLY_CONNECTOR=[]\nDB_PASS=x\n');
    expect(() => loadConnectorConfig(env, KEY)).toThrow(/unknown key DB_PASS/);
  });

  it('has no key for planted defects: a deployment cannot plant one (only the test entry can)', () => {
    expect(() => parseConnectorConfig({ ...base, extensions: { plantedDefect: 'publish-without-waiting' } }, {})).toThrow(
      /unknown key config\.extensions\.plantedDefect/,
    );
  });

  it('names the field and the expected value', () => {
    expect(() => parseConnectorConfig({ ...base, connector: [{ tablename: 't', ablychannelname: 'c', operation: 'UPSERT' }] }, {})).toThrow(
      /config\.connector\[0\]\.operation: .*"INSERT"\|"UPDATE"\|"DELETE"/,
    );
    expect(() => parseConnectorConfig({ ...base, extensions: { mode: 'fast' } }, {})).toThrow(/config\.extensions\.mode: .*"durable"\|"notify"/);
    expect(() => parseConnectorConfig(base, { ABLY_TLS: 'maybe' })).toThrow(/ABLY_TLS: expected true or false, got "maybe"/);
    expect(() => parseConnectorConfig({ ...base, ably: {} }, {})).toThrow(/config\.ably\.apiKey/);
    expect(() => parseConnectorConfig({ ...base, dbConfig: undefined }, {})).toThrow(/config\.dbConfig\.host/);
    expect(() => loadConnectorConfig(tmpFile('x.env', 'ABLY_CONNECTOR=[oops\n'), KEY)).toThrow(/ABLY_CONNECTOR: expected JSON/);
    expect(() => loadConnectorConfig('/nonexistent/c.json', KEY)).toThrow(ConfigError);
  });

  it('accepts lower-case operations as the original did, and the extension keys', () => {
    const cfg = parseConnectorConfig(
      {
        ...base,
        connector: [{ tablename: 'chat_messages', ablychannelname: 'chat:{room}:incoming', operation: 'update' }],
        extensions: { mode: 'notify', messageName: 'original', channelTemplates: true, batch: { maxMessages: 10 }, timing: { pollIntervalMs: 50 } },
      },
      {},
    );
    expect(cfg.mappings[0]!.operation).toBe('UPDATE');
    expect(cfg.batch).toEqual({ maxMessages: 10, maxInFlight: 500, drainLimit: 1000 });
    expect(cfg.timing.pollIntervalMs).toBe(50);
    expect(cfg.timing.leaderPollMs).toBe(250);
    expect(renderChannel(cfg.mappings[0]!.channel, { room: 'lobby' })).toEqual({ channel: 'chat:lobby:incoming' });
    expect(renderChannel(cfg.mappings[0]!.channel, { room: null })).toEqual({ error: 'column room is null or missing' });
    expect(ORIGINAL_MESSAGE_NAME).toMatch(/Postgres connector/);
  });

  it('keeps braces literal unless channel templates are on', () => {
    const cfg = parseConnectorConfig({ ...base, connector: [{ tablename: 't', ablychannelname: 'a{b}', operation: 'INSERT' }] }, {});
    expect(renderChannel(cfg.mappings[0]!.channel, {})).toEqual({ channel: 'a{b}' });
    expect(() =>
      parseConnectorConfig({ ...base, connector: [{ tablename: 't', ablychannelname: 'a{b', operation: 'INSERT' }], extensions: { channelTemplates: true } }, {}),
    ).toThrow(/config\.connector\[0\]\.ablychannelname: unbalanced brace/);
  });
});
