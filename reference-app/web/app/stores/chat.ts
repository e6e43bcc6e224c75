/**
 * The chat's state and its whole conversation with the realtime service: one ably client, the
 * room's three channels (outgoing, incoming, typing), the message view, presence and typing.
 * Components render this store and call its actions; nothing else touches the SDK.
 */
import type * as Ably from 'ably';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { ApiError, fetchHistory, fetchRefusals, parseChange } from '../lib/api.ts';
import { createDeliveryTracker, refusalText, type WriteStatus } from '../lib/delivery.ts';
import { readBack } from '../lib/catch-up.ts';
import {
  addPending,
  applyRow,
  channelName,
  compareSendOrder,
  MESSAGE_NAMES,
  oldestShown,
  reconcile,
  setDelivery,
  visibleMessages,
  type MessageMap,
} from '../../../contract/index.ts';
import { newMessageId } from '../lib/ids.ts';
import { createRealtime } from '../lib/realtime.ts';
import { useSessionStore } from './session.ts';
import { createTyping } from '../lib/typing.ts';

const HISTORY_PAGE = 50;

export interface PendingOp {
  kind: 'edit' | 'delete';
  /** sending: published, not confirmed; slow: still not; failed: retryable; refused: final. */
  state: 'sending' | 'slow' | 'failed' | 'refused';
  error?: string;
  /** The edit's text, kept for a retry. */
  text?: string;
}

/** What the author sees about their own post beyond pending/failed/confirmed. */
export interface PostNote {
  status: WriteStatus;
  reason?: string;
}

export type HistoryState = 'loading' | 'ready' | 'error';

/** A client send sequence that keeps increasing across reloads (it starts at the clock). */
let lastSeq = 0;
function nextSeq(): number {
  lastSeq = Math.max(Date.now(), lastSeq + 1);
  return lastSeq;
}

interface RoomChannels {
  name: string;
  /** Subscribed to incoming and typing. */
  subscribed: boolean;
  /** History loaded: from here on a continuity loss means a catch-up. */
  joined: boolean;
  incoming: Ably.RealtimeChannel;
  outgoing: Ably.RealtimeChannel;
  typing: Ably.RealtimeChannel;
}

export const useChatStore = defineStore('chat', () => {
  const session = useSessionStore();

  const connectionState = ref<Ably.ConnectionState | 'offline'>('offline');
  const connectionError = ref<string | null>(null);
  const room = ref<string | null>(null);
  const joinError = ref<string | null>(null);
  const messages = ref<MessageMap>({});
  const ops = ref<Record<string, PendingOp>>({});
  const older = ref<{ next: string | null; loading: boolean; error: string | null }>({ next: null, loading: false, error: null });
  const members = ref<Array<{ clientId: string }>>([]);
  const presenceError = ref<string | null>(null);
  const historyState = ref<HistoryState>('loading');
  const notes = ref<Record<string, PostNote>>({});
  /** The message whose editor is open (one at a time, so ↑ and Esc know where focus goes). */
  const editingId = ref<string | null>(null);
  /** The newest message from someone else, for the screen-reader announcement only. */
  const announcement = ref('');

  const visible = computed(() => visibleMessages(messages.value));
  /** Messages deleted while this view was open: they leave a "message deleted" trace. */
  const deletedHere = ref<Record<string, true>>({});
  /** Deleted (in another tab or by a retry) while its editor was open: the trace says the edit is gone. */
  const editLost = ref<Record<string, true>>({});
  const timeline = computed(() =>
    Object.values(messages.value)
      .filter((m) => !m.deleted || deletedHere.value[m.id])
      .sort(compareSendOrder),
  );

  // The SDK objects stay out of reactive state: Vue proxies would wrap their internals.
  const client = shallowRef<Ably.Realtime | null>(null);
  let current: RoomChannels | null = null;
  // Keys: a post's id, or `op:<message id>` for an edit or delete of it.
  const delivery = createDeliveryTracker({
    fetchRefusals,
    onStatus: (key, status, reason) => {
      if (key.startsWith('op:')) return opStatus(key.slice(3), status, reason);
      if (status === 'failed' || status === 'refused') setDelivery(messages.value, key, 'failed');
      if (messages.value[key]?.delivery === 'confirmed') return;
      notes.value[key] = reason ? { status, reason: refusalText(reason) } : { status };
    },
  });
  const typing = createTyping({
    publish: (data) => current?.typing.publish(MESSAGE_NAMES.typing, data),
    self: () => session.clientId,
  });

  let clientPromise: Promise<Ably.Realtime> | null = null;
  let clientGeneration = 0;

  /** One client per signed-in session, created on first use (concurrent joins share it). */
  function ensureClient(): Promise<Ably.Realtime> {
    const generation = clientGeneration;
    clientPromise ??= createRealtime({ onSignedOut: () => session.expired() }).then((c) => {
      if (generation !== clientGeneration) {
        c.close(); // signed out while the client was being created
        throw new Error('signed out');
      }
      c.connection.on((change) => {
        connectionState.value = change.current;
        connectionError.value = change.reason ? change.reason.message : null;
      });
      connectionState.value = c.connection.state;
      client.value = c;
      return c;
    });
    // A failed start (e.g. /api/config unreachable) may be retried by the next join.
    clientPromise.catch(() => (clientPromise = null));
    return clientPromise;
  }

  function onIncoming(msg: Ably.InboundMessage): void {
    const change = parseChange(msg.name, msg.data);
    if ('error' in change) {
      console.warn(`incoming ${msg.id}: ${change.error}`);
      return;
    }
    if (change.row.room !== room.value) return;
    const before = messages.value[change.row.id];
    if (applyRow(messages.value, change.row, change.kind)) {
      const id = change.row.id;
      delivery.settle(id);
      delete notes.value[id];
      const after = messages.value[id];
      if (change.kind !== 'INSERT') {
        delivery.settle(`op:${id}`);
        delete ops.value[id];
      }
      if (after?.deleted && before && !before.deleted) {
        deletedHere.value[id] = true;
        if (editingId.value === id) {
          editingId.value = null;
          editLost.value[id] = true;
        }
      }
      if (change.kind === 'INSERT' && !before && after && after.author !== session.clientId) {
        announcement.value = `${after.username}: ${after.text.slice(0, 200)}`;
      }
    }
  }

  /** Joins a room: subscribe to incoming first, then read history, so no message falls in between. */
  async function join(name: string): Promise<void> {
    if (current?.name === name) return;
    leave();
    room.value = name;
    joinError.value = null;
    historyState.value = 'loading';
    let c: Ably.Realtime;
    try {
      c = await ensureClient();
    } catch (err) {
      if (room.value === name) {
        joinError.value = `the realtime service is unreachable (${errorText(err)})`;
        historyState.value = 'error';
      }
      return;
    }
    if (room.value !== name || current) return;
    const ch: RoomChannels = {
      name,
      subscribed: false,
      joined: false,
      incoming: c.channels.get(channelName(name, 'incoming')),
      outgoing: c.channels.get(channelName(name, 'outgoing')),
      typing: c.channels.get(channelName(name, 'typing')),
    };
    current = ch;
    // A reattach without `resumed` means messages may have been missed: read them back.
    const onContinuityLoss = (change: Ably.ChannelStateChange) => {
      if (ch.joined && current === ch && !change.resumed) void catchUp(ch);
    };
    ch.incoming.on('attached', onContinuityLoss);
    ch.incoming.on('update', onContinuityLoss);
    await loadRoom(ch);
  }

  /** Subscribes (once), then reads the newest page of history; on failure the room offers a retry. */
  /** History answers 401 once the session was ended elsewhere (logout in another tab, expiry): sign-in again. */
  function sessionEnded(err: unknown): boolean {
    if (!(err instanceof ApiError) || err.status !== 401) return false;
    session.expired();
    return true;
  }

  async function loadRoom(ch: RoomChannels): Promise<void> {
    historyState.value = 'loading';
    joinError.value = null;
    try {
      if (!ch.subscribed) {
        await ch.incoming.subscribe(onIncoming);
        await ch.typing.subscribe(MESSAGE_NAMES.typing, (m) => typing.received(m.clientId, m.data));
        ch.subscribed = true;
      }
      const page = await fetchHistory(ch.name, { limit: HISTORY_PAGE });
      if (current !== ch) return;
      for (const row of page.messages) applyRow(messages.value, row, 'history');
      older.value = { next: page.next, loading: false, error: null };
      historyState.value = 'ready';
      ch.joined = true;
    } catch (err) {
      if (sessionEnded(err)) return;
      if (current === ch) {
        joinError.value = errorText(err);
        historyState.value = 'error';
      }
      return;
    }
    void enterPresence(ch);
  }

  async function enterPresence(ch: RoomChannels): Promise<void> {
    const refresh = async () => {
      const list = await ch.incoming.presence.get();
      // One entry per user: the same name in two tabs is two presence members, one person.
      const ids = [...new Set(list.map((p) => p.clientId))].sort((a, b) => a.localeCompare(b));
      if (current === ch) members.value = ids.map((clientId) => ({ clientId }));
    };
    try {
      await ch.incoming.presence.subscribe(() => void refresh().catch(() => {}));
      await ch.incoming.presence.enter();
      await refresh();
      presenceError.value = null;
    } catch (err) {
      if (current === ch) presenceError.value = errorText(err);
    }
  }

  async function catchUp(ch: RoomChannels): Promise<void> {
    const knownBefore = new Set(Object.keys(messages.value));
    const oldest = oldestShown(messages.value);
    try {
      const { rows, coveredFrom } = await readBack(ch.name, oldest);
      if (current === ch) reconcile(messages.value, rows, { knownBefore, coveredFrom });
    } catch (err) {
      console.warn(`catch-up of #${ch.name} failed: ${errorText(err)}`);
    }
  }

  async function loadOlder(): Promise<void> {
    const ch = current;
    if (!ch || !older.value.next || older.value.loading) return;
    older.value = { ...older.value, loading: true, error: null };
    try {
      const page = await fetchHistory(ch.name, { limit: HISTORY_PAGE, before: older.value.next });
      if (current !== ch) return;
      for (const row of page.messages) applyRow(messages.value, row, 'history');
      older.value = { next: page.next, loading: false, error: null };
    } catch (err) {
      if (sessionEnded(err)) return;
      older.value = { ...older.value, loading: false, error: errorText(err) };
    }
  }

  function leave(): void {
    const ch = current;
    current = null;
    room.value = null;
    delivery.reset();
    typing.reset();
    messages.value = {};
    ops.value = {};
    notes.value = {};
    deletedHere.value = {};
    editLost.value = {};
    editingId.value = null;
    announcement.value = '';
    historyState.value = 'loading';
    members.value = [];
    older.value = { next: null, loading: false, error: null };
    if (!ch) return;
    ch.incoming.unsubscribe();
    ch.incoming.off();
    ch.incoming.presence.unsubscribe();
    ch.typing.unsubscribe();
    void ch.incoming.presence.leave().catch(() => {});
    void ch.incoming.detach().catch(() => {});
    void ch.typing.detach().catch(() => {});
  }

  /** Sends a post; it shows as pending until its INSERT comes back on incoming. */
  function send(text: string): void {
    const body = text.trim();
    const me = session.clientId;
    if (!body || !me || !current) return;
    const id = newMessageId(me);
    const seq = nextSeq();
    addPending(messages.value, { id, author: me, username: me, text: body, createdAt: new Date().toISOString(), seq });
    typing.stopped();
    void publishPost(id, body, seq);
  }

  async function publishPost(id: string, text: string, seq: number): Promise<void> {
    const ch = current;
    if (!ch) return;
    // Confirmation is the database's INSERT coming back on incoming, however long it takes.
    delivery.track(id, id);
    try {
      await ch.outgoing.publish({ id, name: MESSAGE_NAMES.post, data: { text, seq } });
    } catch (err) {
      console.warn(`post ${id} failed: ${errorText(err)}`);
      if (current !== ch) return;
      delivery.settle(id);
      setDelivery(messages.value, id, 'failed');
      notes.value[id] = { status: 'failed', reason: `not sent: ${errorText(err)}` };
    }
  }

  function retry(id: string): void {
    const m = messages.value[id];
    if (!m || notes.value[id]?.status === 'refused' || !setDelivery(messages.value, id, 'pending')) return;
    void publishPost(id, m.text, m.seq);
  }

  /** Drops a post that can never be delivered (refused, or given up on) from the view. */
  function discard(id: string): void {
    const m = messages.value[id];
    if (!m || m.delivery === 'confirmed') return;
    delivery.settle(id);
    delete messages.value[id];
    delete notes.value[id];
  }

  function edit(id: string, text: string): void {
    const body = text.trim();
    const m = messages.value[id];
    if (!body || !m || body === m.text) return;
    void publishChange(id, { kind: 'edit', state: 'sending', text: body }, MESSAGE_NAMES.edit, { id, text: body });
  }

  function retryOp(id: string): void {
    const op = ops.value[id];
    if (!op || op.state !== 'failed') return;
    if (op.kind === 'edit' && op.text !== undefined) edit(id, op.text);
    else if (op.kind === 'delete') remove(id);
  }

  function opStatus(id: string, status: WriteStatus, reason?: string): void {
    const op = ops.value[id];
    if (!op) return;
    const state = status === 'pending' ? 'sending' : status;
    ops.value[id] = { ...op, state, ...(reason ? { error: refusalText(reason) } : status === 'failed' ? { error: 'no confirmation from the server yet' } : {}) };
  }

  function remove(id: string): void {
    void publishChange(id, { kind: 'delete', state: 'sending' }, MESSAGE_NAMES.delete, { id });
  }

  async function publishChange(id: string, op: PendingOp, name: string, data: Record<string, string>): Promise<void> {
    const ch = current;
    const me = session.clientId;
    if (!ch || !me) return;
    ops.value[id] = op;
    const opId = newMessageId(me);
    delivery.track(`op:${id}`, opId);
    try {
      await ch.outgoing.publish({ id: opId, name, data });
    } catch (err) {
      delivery.settle(`op:${id}`);
      if (current === ch && ops.value[id]) ops.value[id] = { ...op, state: 'failed', error: `not sent: ${errorText(err)}` };
    }
  }

  function dismissOp(id: string): void {
    delivery.settle(`op:${id}`);
    delete ops.value[id];
  }

  /** Reads the room again after its history failed to load. */
  async function retryJoin(): Promise<void> {
    if (current) return loadRoom(current);
    const name = room.value;
    if (!name) return;
    room.value = null;
    await join(name);
  }

  /** Leaves the room and closes the connection (sign-out). */
  function disconnect(): void {
    leave();
    client.value?.close();
    client.value = null;
    clientPromise = null;
    clientGeneration++;
    connectionState.value = 'offline';
  }

  return {
    connectionState,
    connectionError,
    room,
    joinError,
    messages,
    visible,
    timeline,
    ops,
    notes,
    historyState,
    editingId,
    editLost,
    announcement,
    older,
    members,
    presenceError,
    typingNames: typing.names,
    join,
    leave,
    loadOlder,
    send,
    retry,
    discard,
    retryOp,
    retryJoin,
    edit,
    remove,
    dismissOp,
    typed: typing.typed,
    disconnect,
  };
});

function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}
