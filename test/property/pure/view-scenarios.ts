/**
 * Generated late-join scenarios for the client view: a room's changes in commit order (posts,
 * edits, soft deletes and, optionally, hard DELETEs), a history page read after the attach, and
 * the order in which live events (some twice) and the page's rows land at the client.
 */
import fc from 'fast-check';
import type { ChangeName, ViewRow } from '../../../harness/history/types.ts';
import type { ChatRow } from '../../../reference-app/contract/index.ts';
import { VuView } from '../../../harness/workload/vu-view.ts';

/** The columns the view rules and the convergence rule look at. */
type ChangeRow = Pick<ChatRow, 'id' | 'text' | 'version' | 'deleted' | 'author'>;

interface Change {
  name: ChangeName;
  row: ChangeRow;
}

type Op = { kind: 'post' } | { kind: 'edit'; pick: number } | { kind: 'delete'; pick: number };

const AUTHORS = ['ann', 'bob'];

/** Replays ops against a tiny database: the changes the connector would publish, in commit order. */
export function commit(ops: readonly Op[], hardDeletes: readonly number[]): { changes: Change[]; db: Map<string, ChangeRow> } {
  const db = new Map<string, ChangeRow>();
  const changes: Change[] = [];
  let posts = 0;
  for (const op of ops) {
    const live = [...db.values()].filter((r) => !r.deleted);
    if (op.kind === 'post') {
      const row: ChangeRow = { id: `m${++posts}`, text: `post ${posts}`, version: 1, deleted: false, author: AUTHORS[posts % 2]! };
      db.set(row.id, row);
      changes.push({ name: 'INSERT', row: { ...row } });
      continue;
    }
    const target = live[op.pick % Math.max(live.length, 1)];
    if (!target) continue;
    const next: ChangeRow = { ...target, version: target.version + 1 };
    if (op.kind === 'edit') next.text = `${target.text}'`;
    else next.deleted = true;
    db.set(next.id, next);
    changes.push({ name: 'UPDATE', row: { ...next } });
  }
  // A hard DELETE (a row removed outright) publishes the old row under the name DELETE.
  for (const pick of hardDeletes) {
    const rows = [...db.values()];
    const gone = rows[pick % Math.max(rows.length, 1)];
    if (!gone) continue;
    db.delete(gone.id);
    changes.push({ name: 'DELETE', row: { ...gone } });
  }
  return { changes, db };
}

type Landing = { kind: 'live'; change: Change } | { kind: 'history'; row: ChangeRow };

export interface Scenario {
  changes: Change[];
  db: Map<string, ChangeRow>;
  landings: Landing[];
}

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'post' as const }) },
  { weight: 4, arbitrary: fc.nat(9).map((pick) => ({ kind: 'edit' as const, pick })) },
  { weight: 1, arbitrary: fc.nat(9).map((pick) => ({ kind: 'delete' as const, pick })) },
);

/**
 * Built with map, not chain, so that every part shrinks on its own: indexes past the end are
 * clamped, missing flags and sort keys count as false and 0.
 */
export function scenario(opts: { hardDeletes: boolean; ordered: boolean }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      ops: fc.array(op, { minLength: 1, maxLength: 14 }),
      hard: opts.hardDeletes ? fc.array(fc.nat(9), { maxLength: 2 }) : fc.constant([]),
      attachAt: fc.nat(16),
      // The page is read after the attach, anywhere up to the end.
      readOffset: fc.nat(16),
      twice: fc.array(fc.boolean(), { maxLength: 16 }),
      keys: fc.array(fc.nat(1000), { maxLength: 40 }),
    })
    .map(({ ops, hard, attachAt: a, readOffset, twice, keys }) => {
      const { changes, db } = commit(ops, hard);
      const n = changes.length;
      const attachAt = Math.min(a, n);
      const readAt = Math.min(n, attachAt + readOffset);
      const state = new Map<string, ChangeRow>();
      for (const c of changes.slice(0, readAt)) {
        if (c.name === 'DELETE') state.delete(c.row.id);
        else state.set(c.row.id, c.row);
      }
      const page = [...state.values()].filter((r) => !r.deleted);
      const live: Landing[] = [];
      changes.slice(attachAt).forEach((change, i) => {
        live.push({ kind: 'live', change });
        if (twice[attachAt + i]) live.push({ kind: 'live', change });
      });
      const key = (i: number) => keys[i] ?? 0;
      let landings: Landing[];
      if (opts.ordered) {
        // Live events keep commit order (what the connector promises); page rows land anywhere.
        landings = [...live];
        page.forEach((row, i) => landings.splice(Math.floor((key(i) / 1001) * (landings.length + 1)), 0, { kind: 'history', row }));
      } else {
        const all: Landing[] = [...live, ...page.map((row): Landing => ({ kind: 'history', row }))];
        landings = all.map((l, i) => ({ l, k: key(i) })).sort((x, y) => x.k - y.k).map((x) => x.l);
      }
      return { changes, db, landings };
    });
}

export function merge(s: Scenario, ignoreVersions: boolean): ViewRow[] {
  const view = new VuView({ ignoreVersions });
  for (const l of s.landings) {
    if (l.kind === 'live') view.merge(fullRow(l.change.row), l.change.name);
    else view.merge(fullRow(l.row), 'history');
  }
  return view.snapshot();
}

function fullRow(r: ChangeRow): ChatRow {
  const at = '2024-05-01T10:00:00.000Z';
  return { ...r, room: 'r', username: r.author, edited: false, created_at: at, updated_at: at };
}

/** Differences between a view and the database, by the rule the convergence checker states. */
export function divergences(view: readonly ViewRow[], db: Map<string, ChangeRow>): string[] {
  const out: string[] = [];
  const byId = new Map(view.map((r) => [r.id, r]));
  for (const id of new Set([...db.keys(), ...byId.keys()])) {
    const d = db.get(id);
    const v = byId.get(id);
    if (!d) {
      if (v && !v.deleted) out.push(`${id}: in the view (v${v.version}), not in the database`);
    } else if (!v) {
      if (!d.deleted) out.push(`${id}: missing from the view (database v${d.version})`);
    } else if (d.deleted) {
      if (!v.deleted || v.version !== d.version) out.push(`${id}: view v${v.version} deleted=${v.deleted}, database deleted v${d.version}`);
    } else if (v.deleted || v.version !== d.version || v.text !== d.text || v.author !== d.author) {
      out.push(`${id}: view v${v.version} ${JSON.stringify(v.text)} deleted=${v.deleted}, database v${d.version} ${JSON.stringify(d.text)}`);
    }
  }
  return out;
}

