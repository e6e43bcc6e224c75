import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { StartedRealtime } from '../../harness/realtime/index.ts';
import { freshDatabase } from '../../harness/testing/pg.ts';
import { Connector, loadConnectorConfig, type StartedConnector } from '../src/index.ts';
import { connect } from '../testing/db.ts';
import { Subscriber, realtimeEnv, startRealtime, waitFor } from '../testing/realtime.ts';

let rt: StartedRealtime;
const running: Array<{ stop(): Promise<void> } | Subscriber> = [];

beforeAll(async () => {
  rt = await startRealtime();
});
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await (r instanceof Subscriber ? r.close() : r.stop());
});
afterAll(async () => {
  await rt.stop();
});

function configFile(name: string, text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'connector-')), name);
  writeFileSync(p, text);
  return p;
}

describe('connector against the local realtime service', () => {
  it("works with the original's example config unchanged (users table, three channels)", async () => {
    const url = new URL(await freshDatabase({ migrate: false }));
    const db = await connect(url.toString());
    await db.query('CREATE TABLE users (id integer, name text)');
    // The user's own database details go where the example has placeholders; nothing else changes.
    const original = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'examples/original.json'), 'utf8'));
    original.dbConfig = { host: url.hostname, port: Number(url.port), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database: url.pathname.slice(1) };
    const cfg = loadConnectorConfig(configFile('default.json', JSON.stringify(original)), realtimeEnv(rt));

    const sub = new Subscriber(rt);
    running.push(sub);
    await sub.subscribe('ablyusersins', 'ablyusersupt', 'ablyusersdel');
    const c = await new Connector(cfg).start();
    running.push(c);
    await waitFor(() => c.isActive(), () => 'leadership');

    await db.query(`INSERT INTO users VALUES (4, 'PostgreSQL talking through Ably!')`);
    await db.query(`UPDATE users SET name = 'edited' WHERE id = 4`);
    await db.query(`DELETE FROM users WHERE id = 4`);
    await sub.until(3);
    expect(sub.got.map((m) => [m.channel, m.name, m.data])).toMatchObject([
      ['ablyusersins', 'INSERT', { table: 'users', type: 'INSERT', row: { id: 4, name: 'PostgreSQL talking through Ably!' } }],
      ['ablyusersupt', 'UPDATE', { table: 'users', type: 'UPDATE', row: { id: 4, name: 'edited' } }],
      ['ablyusersdel', 'DELETE', { table: 'users', type: 'DELETE', row: { id: 4, name: 'edited' } }],
    ]);
    // Each change says where it committed (read or notified alike), in the order it committed.
    const positions = sub.got.flatMap((m) => (m.data.position ? [m.data.position] : []));
    expect(positions).toHaveLength(3);
    expect(positions.every((p, i) => i === 0 || p[0]! > positions[i - 1]![0]!)).toBe(true);
    await waitFor(() => c.stats().acknowledged === 3, () => `acks (${JSON.stringify(c.stats())})`);
    const health = await fetch(c.healthUrl);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, active: true, postgres: 'connected', realtime: 'connected' });
    const metrics = await (await fetch(c.metricsUrl)).text();
    expect(metrics).toMatch(/ably_connector_messages_acknowledged_total 3/);
    await db.end();
  });
});
