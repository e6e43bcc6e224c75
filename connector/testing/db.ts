/** Test helpers for the connector: configs and clients against a fresh database. */
import pg from 'pg';
import { parseConnectorConfig, type ConnectorConfig } from '../src/config.ts';

export const TEST_KEY = 'app.conn:secret';

export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

export function testConfig(url: string, connector: unknown[], extensions: Record<string, unknown> = {}): ConnectorConfig {
  return parseConnectorConfig({ connector, ably: { apiKey: TEST_KEY }, extensions: { database: { url }, ...extensions } }, {});
}

export async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

export const USERS_MAPPINGS = [
  { tablename: 'users', ablychannelname: 'ablyusersins', operation: 'INSERT' },
  { tablename: 'users', ablychannelname: 'ablyusersupt', operation: 'UPDATE' },
  { tablename: 'users', ablychannelname: 'ablyusersdel', operation: 'DELETE' },
];
