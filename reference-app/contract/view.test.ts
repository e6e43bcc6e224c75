import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addPending,
  applyRow,
  oldestShown,
  reconcile,
  setDelivery,
  visibleMessages,
  type ChatRow,
  type MessageMap,
  type RowSource,
} from './index.ts';

const row = (over: Partial<ChatRow> & { id: string }): ChatRow => ({
  room: 'lobby',
  author: 'alice',
  username: 'alice',
  text: `text of ${over.id}`,
  version: 1,
  edited: false,
  deleted: false,
  created_at: '2024-05-01T10:00:00.000Z',
  updated_at: '2024-05-01T10:00:00.000Z',
  ...over,
});

describe('message view merge', () => {
  it('shows a pending post until its INSERT confirms it', () => {
    const view: MessageMap = {};
    addPending(view, { id: 'a-1', author: 'alice', username: 'alice', text: 'hi', createdAt: '2024-05-01T10:00:00Z' });
    expect(view['a-1']?.delivery).toBe('pending');
    expect(applyRow(view, row({ id: 'a-1', text: 'hi' }), 'INSERT')).toBe(true);
    expect(view['a-1']).toMatchObject({ delivery: 'confirmed', version: 1, text: 'hi' });
  });

  it('confirms a post whose publish was reported failed once its INSERT arrives', () => {
    const view: MessageMap = {};
    addPending(view, { id: 'a-1', author: 'alice', username: 'alice', text: 'hi', createdAt: '2024-05-01T10:00:00Z' });
    expect(setDelivery(view, 'a-1', 'failed')).toBe(true);
    applyRow(view, row({ id: 'a-1' }), 'INSERT');
    expect(view['a-1']?.delivery).toBe('confirmed');
    expect(setDelivery(view, 'a-1', 'failed')).toBe(false);
    expect(view['a-1']?.delivery).toBe('confirmed');
  });

  it('does not let a pending copy replace a row that already arrived', () => {
    const view: MessageMap = {};
    applyRow(view, row({ id: 'a-1', text: 'from db' }), 'INSERT');
    addPending(view, { id: 'a-1', author: 'alice', username: 'alice', text: 'local', createdAt: '2024-05-01T10:00:00Z' });
    expect(view['a-1']).toMatchObject({ text: 'from db', delivery: 'confirmed' });
  });

  it('keeps an UPDATE for a message it has not seen yet', () => {
    const view: MessageMap = {};
    expect(applyRow(view, row({ id: 'x', version: 2, text: 'edited', edited: true }), 'UPDATE')).toBe(true);
    expect(applyRow(view, row({ id: 'x', version: 1, text: 'original' }), 'history')).toBe(false);
    expect(view.x).toMatchObject({ text: 'edited', version: 2, edited: true });
  });

  it('ignores stale and repeated versions', () => {
    const view: MessageMap = {};
    applyRow(view, row({ id: 'x', version: 3, text: 'v3' }), 'UPDATE');
    expect(applyRow(view, row({ id: 'x', version: 2, text: 'v2' }), 'UPDATE')).toBe(false);
    expect(applyRow(view, row({ id: 'x', version: 3, text: 'v3 again' }), 'UPDATE')).toBe(false);
    expect(view.x?.text).toBe('v3');
  });

  it('hides a soft-deleted message and does not bring it back from an older history page', () => {
    const view: MessageMap = {};
    applyRow(view, row({ id: 'x' }), 'INSERT');
    applyRow(view, row({ id: 'x', version: 2, deleted: true }), 'UPDATE');
    applyRow(view, row({ id: 'x', version: 1 }), 'history');
    expect(visibleMessages(view)).toEqual([]);
  });

  it('treats a hard DELETE as final', () => {
    const view: MessageMap = {};
    applyRow(view, row({ id: 'x', version: 1 }), 'DELETE');
    expect(applyRow(view, row({ id: 'x', version: 5 }), 'UPDATE')).toBe(false);
    expect(visibleMessages(view)).toEqual([]);
  });

  it('orders by creation time, then id, whatever the arrival order', () => {
    const view: MessageMap = {};
    applyRow(view, row({ id: 'c', created_at: '2024-05-01T10:00:02Z' }), 'INSERT');
    applyRow(view, row({ id: 'b', created_at: '2024-05-01T10:00:01Z' }), 'history');
    applyRow(view, row({ id: 'a', created_at: '2024-05-01T10:00:01Z' }), 'history');
    expect(visibleMessages(view).map((m) => m.id)).toEqual(['a', 'b', 'c']);
  });

  it('catch-up marks messages missing from a covering history read as deleted, and only those', () => {
    const view: MessageMap = {};
    const old = row({ id: 'old', created_at: '2024-05-01T09:00:00Z' });
    const kept = row({ id: 'kept', created_at: '2024-05-01T10:00:00Z' });
    const gone = row({ id: 'gone', created_at: '2024-05-01T10:00:01Z' });
    for (const r of [old, kept, gone]) applyRow(view, r, 'INSERT');
    addPending(view, { id: 'mine', author: 'alice', username: 'alice', text: 'p', createdAt: '2024-05-01T10:00:02Z' });
    const knownBefore = new Set(Object.keys(view));
    // Arrived on `incoming` while the read was in flight: the read cannot know it.
    applyRow(view, row({ id: 'fresh', created_at: '2024-05-01T10:00:03Z' }), 'INSERT');
    const edited = { ...kept, version: 2, text: 'edited in the gap', edited: true };
    const changed = reconcile(view, [edited], { knownBefore, coveredFrom: '2024-05-01T09:30:00Z' });
    expect(changed).toBe(2);
    expect(visibleMessages(view).map((m) => m.id)).toEqual(['old', 'kept', 'mine', 'fresh']);
    expect(view.kept?.text).toBe('edited in the gap');
    // The whole room was read: 'old' is missing from it too.
    reconcile(view, [edited], { knownBefore, coveredFrom: null });
    expect(visibleMessages(view).map((m) => m.id)).toEqual(['kept', 'mine', 'fresh']);
  });

  // Subscribe-then-history means the same versions reach the view in arbitrary order and
  // multiplicity; the view must always end at each message's newest version.
  it('converges to the newest version of every message for any arrival order', () => {
    const version = fc.record({
      id: fc.constantFrom('m1', 'm2', 'm3'),
      version: fc.integer({ min: 1, max: 6 }),
      source: fc.constantFrom<RowSource>('INSERT', 'UPDATE', 'history'),
    });
    fc.assert(
      fc.property(fc.array(version, { minLength: 1, maxLength: 30 }), (events) => {
        const view: MessageMap = {};
        for (const e of events) {
          applyRow(view, row({ id: e.id, version: e.version, text: `${e.id}@${e.version}`, deleted: e.version === 6 }), e.source);
        }
        for (const id of new Set(events.map((e) => e.id))) {
          const newest = Math.max(...events.filter((e) => e.id === id).map((e) => e.version));
          expect(view[id]).toMatchObject({ version: newest, text: `${id}@${newest}`, deleted: newest === 6 });
        }
      }),
    );
  });
});

describe('tombstones', () => {
  it('a hard DELETE keeps the row version it carried and outranks every later version', () => {
    const view: MessageMap = {};
    applyRow(view, row({ id: 'x', version: 3 }), 'UPDATE');
    expect(applyRow(view, row({ id: 'x', version: 3 }), 'DELETE')).toBe(true);
    expect(view.x).toMatchObject({ version: 3, deleted: true, gone: true });
    expect(applyRow(view, row({ id: 'x', version: 9 }), 'history')).toBe(false);
    expect(applyRow(view, row({ id: 'x', version: 3 }), 'DELETE')).toBe(false);
  });

  it('a message a catch-up found missing stays gone when a stale copy arrives later', () => {
    const view: MessageMap = {};
    applyRow(view, row({ id: 'x', version: 1 }), 'INSERT');
    reconcile(view, [], { knownBefore: new Set(['x']), coveredFrom: null });
    expect(view.x).toMatchObject({ deleted: true, gone: true });
    expect(applyRow(view, row({ id: 'x', version: 2 }), 'UPDATE')).toBe(false);
  });
});

describe('send order', () => {
  const base = { room: 'r', author: 'sue', username: 'sue', version: 1, edited: false, deleted: false, updated_at: '2026-12-05T10:00:09Z' };
  it('shows posts by send time and client sequence, not by commit time', () => {
    const view: MessageMap = {};
    // Committed in the reverse of the order they were sent; two sent in one millisecond.
    applyRow(view, { ...base, id: 'c', text: 'c', created_at: '2026-12-05T10:00:01Z', sent_at: '2026-12-05T10:00:00.500Z', client_seq: 3 }, 'INSERT');
    applyRow(view, { ...base, id: 'b', text: 'b', created_at: '2026-12-05T10:00:02Z', sent_at: '2026-12-05T10:00:00.400Z', client_seq: 2 }, 'INSERT');
    applyRow(view, { ...base, id: 'a', text: 'a', created_at: '2026-12-05T10:00:03Z', sent_at: '2026-12-05T10:00:00.400Z', client_seq: 1 }, 'INSERT');
    applyRow(view, { ...base, id: 'old', text: 'old', created_at: '2026-12-05T09:00:00Z' }, 'history');
    expect(visibleMessages(view).map((m) => m.id)).toEqual(['old', 'a', 'b', 'c']);
    // A catch-up reads back by commit time: from the oldest commit, not the first shown.
    expect(oldestShown(view)).toBe('2026-12-05T09:00:00Z');
  });
});
