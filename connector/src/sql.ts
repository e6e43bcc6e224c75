/**
 * SQL text for the objects the connector installs. Config values never reach SQL as text: names
 * go through quoteIdent/quoteLiteral, values travel as query parameters.
 */
import { createHash } from 'node:crypto';
import type { Operation } from './config.ts';

/** Postgres truncates identifiers to 63 bytes; longer names would silently collide. */
const MAX_IDENT_BYTES = 63;

export function quoteIdent(name: string): string {
  if (name.includes('\u0000')) throw new Error(`identifier ${JSON.stringify(name)} contains a NUL byte`);
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) throw new Error(`literal ${JSON.stringify(value)} contains a NUL byte`);
  return `'${value.replace(/'/g, "''")}'`;
}

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 10);
}

function truncateBytes(s: string, bytes: number): string {
  let out = s;
  while (Buffer.byteLength(out) > bytes) out = out.slice(0, -1);
  return out;
}

/**
 * `<table>_notify_<op>`: the name the original connector gave its triggers (it wrote them unquoted,
 * so Postgres folded them to lower case), which lets this connector replace them in place.
 */
export function triggerName(relname: string, op: Operation): string {
  const suffix = `_notify_${op.toLowerCase()}`;
  const name = `${relname}${suffix}`;
  if (Buffer.byteLength(name) <= MAX_IDENT_BYTES) return name;
  const tag = `_${shortHash(relname)}${suffix}`;
  return truncateBytes(relname, MAX_IDENT_BYTES - Buffer.byteLength(tag)) + tag;
}

/** Names of the connector's own objects, qualified with the schema they live in. */
export interface ObjectNames {
  schema: string;
  controlTable: string;
  outbox: string;
  commits: string;
  commitSeq: string;
  dead: string;
  meta: string;
  captureFn: string;
  commitFn: string;
  /** Custom GUC holding this transaction's commit number once its commit row is written (one per schema). */
  commitFlag: string;
  /** NOTIFY channel of this schema's outbox. */
  wakeChannel: string;
}

export const NOTIFY_CHANNEL = 'table_update';
/** NOTIFY refuses payloads of 8000 bytes or more (and fails the writer's transaction). */
export const NOTIFY_PAYLOAD_LIMIT = 8000;
/** Advisory lock classes: (class, hashtext(schema)). Fixed, arbitrary. */
export const SETUP_LOCK_CLASS = 7_301_002;
export const LEADER_LOCK_CLASS = 7_301_003;
/** Held by a notifying writer from its commit number to its commit's end (see commitFunctionDdl). */
export const COMMIT_LOCK_CLASS = 7_301_005;

export function objectNames(schema: string): ObjectNames {
  const q = (n: string) => `${quoteIdent(schema)}.${quoteIdent(n)}`;
  return {
    schema,
    controlTable: q('ablycontroltable'),
    outbox: q('ably_outbox'),
    commits: q('ably_outbox_commit'),
    commitSeq: q('ably_outbox_commit_seq'),
    dead: q('ably_outbox_dead'),
    meta: q('ably_connector_meta'),
    captureFn: q('ably_connector_capture'),
    commitFn: q('ably_connector_commit'),
    commitFlag: `ably_connector.commit_${shortHash(schema)}`,
    wakeChannel: `ably_outbox_${shortHash(schema)}`,
  };
}

export function tablesDdl(n: ObjectNames): string[] {
  return [
    // The original connector's control table, same shape, so its existing rows carry over.
    `CREATE TABLE IF NOT EXISTS ${n.controlTable} (
       tablename VARCHAR(100) NOT NULL, ablychannelname VARCHAR(100) NOT NULL, operation VARCHAR(50),
       PRIMARY KEY (tablename, ablychannelname, operation))`,
    `CREATE TABLE IF NOT EXISTS ${n.meta} (
       id int PRIMARY KEY CHECK (id = 1),
       outbox_id text NOT NULL)`,
    // False while the connector reads the outbox continuously (see durable.ts): writers then skip
    // the NOTIFY, whose commit-time lock serializes every notifying transaction.
    // Checked first: ALTER TABLE would wait for every open transaction whose trigger read the row.
    `DO $do$ BEGIN
       IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = ${quoteLiteral(n.meta)}::regclass AND attname = 'wake' AND NOT attisdropped) THEN
         ALTER TABLE ${n.meta} ADD COLUMN wake boolean NOT NULL DEFAULT true;
       END IF;
     END $do$`,
    // Stable per outbox, so message ids stay unique if the outbox is ever dropped and recreated.
    `INSERT INTO ${n.meta} (id, outbox_id)
       VALUES (1, substr(replace(gen_random_uuid()::text, '-', ''), 1, 12)) ON CONFLICT (id) DO NOTHING`,
    // seq is the row's position (message ids derive from it); it is taken at insert time, so it
    // is NOT commit order.
    `CREATE TABLE IF NOT EXISTS ${n.outbox} (
       seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
       tablename  text NOT NULL,
       operation  text NOT NULL,
       row_data   json NOT NULL,
       created_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    // Checked first, as below: CREATE INDEX locks the table before it looks, so a connector starting
    // while a writer's transaction is open would wait for it.
    `DO $do$ BEGIN
       IF to_regclass(${quoteLiteral(`${quoteIdent(n.schema)}.ably_outbox_xid`)}) IS NULL THEN
         CREATE INDEX ably_outbox_xid ON ${n.outbox} (xid);
       END IF;
     END $do$`,
    `CREATE SEQUENCE IF NOT EXISTS ${n.commitSeq}`,
    // One row per writing transaction, numbered as it commits: the drain's order.
    `CREATE TABLE IF NOT EXISTS ${n.commits} (
       xid          xid8 PRIMARY KEY,
       commit_seq   bigint NOT NULL DEFAULT nextval(${quoteLiteral(n.commitSeq)}::regclass),
       committed_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    `CREATE TABLE IF NOT EXISTS ${n.dead} (
       seq        bigint PRIMARY KEY,
       tablename  text NOT NULL,
       operation  text NOT NULL,
       row_data   json NOT NULL,
       error      text NOT NULL,
       failed_at  timestamptz NOT NULL DEFAULT clock_timestamp())`,
  ];
}

/**
 * The row trigger. Durable: one outbox row in the writer's transaction; its notification is sent
 * by the commit trigger below, which alone knows the commit number. Notify mode: the original's
 * payload, except that a payload NOTIFY would refuse becomes a small marker the connector reports,
 * so the writer's statement never fails because of the connector.
 */
export function captureFunctionDdl(n: ObjectNames): string {
  return `CREATE OR REPLACE FUNCTION ${n.captureFn}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  r record;
  payload text;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  IF TG_ARGV[0] = 'notify' THEN
    payload := json_build_object('table', TG_TABLE_NAME, 'type', TG_OP, 'row', r)::text;
    IF octet_length(payload) >= ${NOTIFY_PAYLOAD_LIMIT} THEN
      payload := json_build_object('table', TG_TABLE_NAME, 'type', TG_OP, 'oversize', octet_length(payload),
                                   'id', left((to_jsonb(r) -> 'id')::text, 200))::text;
    END IF;
    PERFORM pg_notify(${quoteLiteral(NOTIFY_CHANNEL)}, payload);
  ELSE
    INSERT INTO ${n.outbox} (tablename, operation, row_data) VALUES (TG_TABLE_NAME, TG_OP, row_to_json(r));
  END IF;
  RETURN NULL;
END
$fn$`;
}

/**
 * Deferred to commit time, once per outbox row, in insertion order. The first firing numbers the
 * transaction; each firing then NOTIFYs its row with that number, so a change published straight
 * from its notification carries the same commit position as one read from the outbox.
 *
 * Why the lock: the number is taken a moment before the commit itself, so without it two
 * transactions committing at once could commit in the other order than they were numbered. A
 * notifying transaction already commits alone (NOTIFY's own commit lock, in that same order), so
 * taking this transaction-scoped lock first, and holding it until the commit is visible, costs
 * almost nothing more and makes number order the commit order that the notifications (and every
 * later read) see. Writers in pull mode (`wake` false) skip both locks: then a number only
 * promises that a transaction which finished committing before another began has the lower one.
 *
 * The transaction-local setting holds the number ('' before the first firing, 'x' when not notifying).
 */
export function commitFunctionDdl(n: ObjectNames): string {
  return `CREATE OR REPLACE FUNCTION ${n.commitFn}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  v text := coalesce(current_setting(${quoteLiteral(n.commitFlag)}, true), '');
  c bigint;
  payload text;
BEGIN
  IF v = '' THEN
    IF (SELECT m.wake FROM ${n.meta} m WHERE m.id = 1) IS FALSE THEN
      v := 'x';
    ELSE
      PERFORM pg_advisory_xact_lock(${COMMIT_LOCK_CLASS}, hashtext(${quoteLiteral(n.schema)}));
    END IF;
    INSERT INTO ${n.commits} (xid) VALUES (pg_current_xact_id()) RETURNING commit_seq INTO c;
    IF v = '' THEN v := c::text; END IF;
    PERFORM set_config(${quoteLiteral(n.commitFlag)}, v, true);
  END IF;
  IF v = 'x' THEN RETURN NULL; END IF;
  payload := '{"q":' || NEW.seq || ',"c":' || v || ',"t":' || to_json(NEW.tablename)::text || ',"o":"' || NEW.operation || '","r":' || NEW.row_data::text || '}';
  IF octet_length(payload) >= ${NOTIFY_PAYLOAD_LIMIT} THEN payload := '{"q":' || NEW.seq || '}'; END IF;
  PERFORM pg_notify(${quoteLiteral(n.wakeChannel)}, payload);
  RETURN NULL;
END
$fn$`;
}

export function commitTriggerDdl(n: ObjectNames): string {
  return `CREATE CONSTRAINT TRIGGER ably_outbox_commit AFTER INSERT ON ${n.outbox}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${n.commitFn}()`;
}

export function rowTriggerDdl(n: ObjectNames, table: string, trigger: string, op: Operation, mode: 'durable' | 'notify'): string {
  return `CREATE OR REPLACE TRIGGER ${quoteIdent(trigger)} AFTER ${op} ON ${table}
    FOR EACH ROW EXECUTE FUNCTION ${n.captureFn}(${quoteLiteral(mode)})`;
}

/** pg_trigger.tgtype bits for AFTER ... FOR EACH ROW. */
export const TGTYPE: Record<Operation, number> = { INSERT: 1 | 4, DELETE: 1 | 8, UPDATE: 1 | 16 };
