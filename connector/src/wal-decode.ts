/**
 * pgoutput (protocol version 1), decoded for what the connector publishes and nothing more:
 * transaction bounds, relations, and row changes rendered straight into row objects (wal-values.ts
 * renders each value as row_to_json would). Positions stay 64-bit integers read from the frame,
 * commit times plain numbers, and each message is handed over as arguments rather than as an
 * object: at thousands of changes a second the consumer shares the writers' cores, so what it
 * does not allocate or format, the writers keep.
 *
 * Origin, type, truncate and logical-decoding messages are skipped (none of them is published).
 */
import { renderValue, type ColumnType } from './wal-values.ts';

/** Milliseconds between the Unix epoch and Postgres's (2000-01-01). */
const PG_EPOCH_MS = 946_684_800_000;

export type Operation = 'INSERT' | 'UPDATE' | 'DELETE';

export interface DecodeHandlers {
  begin(commitMs: number): void;
  change(relation: string, operation: Operation, row: Record<string, unknown>): void;
  /** `endLsn` is the end of the commit record: the position the slot may confirm once it is published. */
  commit(commitLsn: bigint, endLsn: bigint): void;
}

interface Column extends ColumnType {
  key: boolean;
}

interface Relation {
  name: string;
  columns: Column[];
}

export class PgoutputDecoder {
  private readonly relations = new Map<number, Relation>();
  /** Read position within the message being decoded. */
  private p = 0;

  constructor(private readonly h: DecodeHandlers) {}

  /** One message: `buf` from `at` to its end. */
  decode(buf: Buffer, at: number): void {
    this.p = at + 1;
    switch (buf[at]) {
      case 0x42: // 'B'egin: final LSN, commit time, xid
        return this.h.begin(Math.floor(int64(buf, at + 9) / 1000) + PG_EPOCH_MS);
      case 0x43: // 'C'ommit: flags, commit LSN, end LSN, commit time
        return this.h.commit(buf.readBigUInt64BE(at + 2), buf.readBigUInt64BE(at + 10));
      case 0x52: // 'R'elation
        return this.relation(buf);
      case 0x49: // 'I'nsert: relation, 'N', new tuple
        return this.insert(buf);
      case 0x55: // 'U'pdate: relation, ['K' key | 'O' old tuple], 'N', new tuple
        return this.update(buf);
      case 0x44: // 'D'elete: relation, 'K' key | 'O' old tuple
        return this.delete(buf);
      default:
        return;
    }
  }

  private relation(buf: Buffer): void {
    const id = buf.readUInt32BE(this.p);
    this.p += 4;
    this.cstring(buf); // namespace
    const name = this.cstring(buf);
    this.p += 1; // replica identity
    const n = buf.readUInt16BE(this.p);
    this.p += 2;
    const columns: Column[] = [];
    for (let i = 0; i < n; i++) {
      const key = (buf[this.p++]! & 1) === 1;
      const colName = this.cstring(buf);
      const typeOid = buf.readUInt32BE(this.p);
      this.p += 8; // type oid, type modifier
      columns.push({ name: colName, typeOid, key });
    }
    this.relations.set(id, { name, columns });
  }

  private rel(buf: Buffer): Relation {
    const id = buf.readUInt32BE(this.p);
    this.p += 4;
    const r = this.relations.get(id);
    if (!r) throw new Error(`pgoutput: change for relation ${id} before its description`);
    return r;
  }

  private insert(buf: Buffer): void {
    const r = this.rel(buf);
    this.p += 1; // 'N'
    this.h.change(r.name, 'INSERT', this.tuple(buf, r, undefined, false));
  }

  private update(buf: Buffer): void {
    const r = this.rel(buf);
    const sub = buf[this.p++];
    let old: Record<string, unknown> | undefined;
    if (sub === 0x4b || sub === 0x4f) {
      // 'K': the key only; 'O': the whole old row (REPLICA IDENTITY FULL), which also fills in the
      // new row's unchanged TOASTed values.
      const o = this.tuple(buf, r, undefined, sub === 0x4b);
      if (sub === 0x4f) old = o;
      this.p += 1; // 'N'
    } else if (sub !== 0x4e) throw new Error(`pgoutput: unknown update part ${String.fromCharCode(sub ?? 0)}`);
    this.h.change(r.name, 'UPDATE', this.tuple(buf, r, old, false));
  }

  private delete(buf: Buffer): void {
    const r = this.rel(buf);
    const sub = buf[this.p++];
    if (sub !== 0x4b && sub !== 0x4f) throw new Error(`pgoutput: unknown delete part ${String.fromCharCode(sub ?? 0)}`);
    this.h.change(r.name, 'DELETE', this.tuple(buf, r, undefined, sub === 0x4b));
  }

  /**
   * A tuple as a row. An unchanged TOASTed value (left out of the stream) is taken from `old` when
   * there is one, else left out of the row; a key tuple carries only the key columns.
   */
  private tuple(buf: Buffer, r: Relation, old: Record<string, unknown> | undefined, keyOnly: boolean): Record<string, unknown> {
    const row: Record<string, unknown> = {};
    const n = buf.readUInt16BE(this.p);
    this.p += 2;
    for (let i = 0; i < n; i++) {
      const c = r.columns[i]!;
      const kind = buf[this.p++];
      if (kind === 0x74) {
        // 't'ext: length, bytes
        const len = buf.readUInt32BE(this.p);
        const start = this.p + 4;
        this.p = start + len;
        if (!keyOnly || c.key) row[c.name] = renderValue(c.typeOid, buf.toString('utf8', start, this.p));
      } else if (kind === 0x6e) {
        // 'n'ull; in a key tuple, a column outside the key
        if (!keyOnly) row[c.name] = null;
      } else if (kind === 0x75) {
        // 'u'nchanged TOASTed value
        if (old && old[c.name] !== undefined) row[c.name] = old[c.name];
      } else throw new Error(`pgoutput: unexpected column kind ${String.fromCharCode(kind ?? 0)} (binary values are not requested)`);
    }
    return row;
  }

  private cstring(buf: Buffer): string {
    const end = buf.indexOf(0, this.p);
    if (end < 0) throw new Error('pgoutput: unterminated string');
    const s = buf.toString('utf8', this.p, end);
    this.p = end + 1;
    return s;
  }
}

/** A signed 64-bit integer as a number (exact below 2^53: timestamps in microseconds are). */
function int64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 4_294_967_296 + buf.readUInt32BE(at + 4);
}
