/**
 * The chat's state and its whole conversation with the realtime service: one ably client, the
 * room's three channels (outgoing, incoming, typing), the message view, presence and typing.
 * Components render this store and call its actions; nothing else touches the SDK.
 */
import type * as Ably from 'ably';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { fetchHistory, parseChange } from '../lib/api.ts';
import { readBack } from '../lib/catch-up.ts';
import {
  addPending,
  applyRow,
  channelName,
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
/** A post or change whose database event has not come back by then is shown as failed. */
const CONFIRM_TIMEOUT_MS = 20_000;

export interface PendingOp {
  kind: 'edit' | 'delete';
  state: 'sending' | 'failed';
  error?: string;
}

interface RoomChannels {
  name: string;
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

  const visible = computed(() => visibleMessages(messages.value));

  // The SDK objects stay out of reactive state: Vue proxies would wrap their internals.
  const client = shallowRef<Ably.Realtime | null>(null);
  let current: RoomChannels | null = null;
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
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
    if (applyRow(messages.value, change.row, change.kind)) {
      clearTimer(change.row.id);
      if (change.kind !== 'INSERT') delete ops.value[change.row.id];
    }
  }

  /** Joins a room: subscribe to incoming first, then read history, so no message falls in between. */
  async function join(name: string): Promise<void> {
    if (current?.name === name) return;
    leave();
    room.value = name;
    joinError.value = null;
    let c: Ably.Realtime;
    try {
      c = await ensureClient();
    } catch (err) {
      if (room.value === name) joinError.value = `Could not reach the realtime service: ${errorText(err)}`;
      return;
    }
    if (room.value !== name || current) return;
    const ch: RoomChannels = {
      name,
      incoming: c.channels.get(channelName(name, 'incoming')),
      outgoing: c.channels.get(channelName(name, 'outgoing')),
      typing: c.channels.get(channelName(name, 'typing')),
    };
    current = ch;
    let joined = false;
    // A reattach without `resumed` means messages may have been missed: read them back.
    const onContinuityLoss = (change: Ably.ChannelStateChange) => {
      if (joined && current === ch && !change.resumed) void catchUp(ch);
    };
    ch.incoming.on('attached', onContinuityLoss);
    ch.incoming.on('update', onContinuityLoss);
    try {
      await ch.incoming.subscribe(onIncoming);
      await ch.typing.subscribe(MESSAGE_NAMES.typing, (m) => typing.received(m.clientId, m.data));
      const page = await fetchHistory(name, { limit: HISTORY_PAGE });
      if (current !== ch) return;
      for (const row of page.messages) applyRow(messages.value, row, 'history');
      older.value = { next: page.next, loading: false, error: null };
      joined = true;
    } catch (err) {
      if (current === ch) joinError.value = `Could not join #${name}: ${errorText(err)}`;
      return;
    }
    void enterPresence(ch);
  }

  async function enterPresence(ch: RoomChannels): Promise<void> {
    const refresh = async () => {
      const list = await ch.incoming.presence.get();
      if (current === ch) members.value = list.map((p) => ({ clientId: p.clientId })).sort((a, b) => a.clientId.localeCompare(b.clientId));
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
      older.value = { ...older.value, loading: false, error: errorText(err) };
    }
  }

  function leave(): void {
    const ch = current;
    current = null;
    room.value = null;
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
    typing.reset();
    messages.value = {};
    ops.value = {};
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
    addPending(messages.value, { id, author: me, username: me, text: body, createdAt: new Date().toISOString() });
    typing.stopped();
    void publishPost(id, body);
  }

  async function publishPost(id: string, text: string): Promise<void> {
    const ch = current;
    if (!ch) return;
    try {
      await ch.outgoing.publish({ id, name: MESSAGE_NAMES.post, data: { text } });
      // Accepted by the realtime service; the database's INSERT is the confirmation.
      startTimer(id, () => setDelivery(messages.value, id, 'failed'));
    } catch (err) {
      console.warn(`post ${id} failed: ${errorText(err)}`);
      if (current === ch) setDelivery(messages.value, id, 'failed');
    }
  }

  function retry(id: string): void {
    const m = messages.value[id];
    if (!m || !setDelivery(messages.value, id, 'pending')) return;
    void publishPost(id, m.text);
  }

  function edit(id: string, text: string): void {
    const body = text.trim();
    const m = messages.value[id];
    if (!body || !m || body === m.text) return;
    void publishChange(id, { kind: 'edit', state: 'sending' }, MESSAGE_NAMES.edit, { id, text: body });
  }

  function remove(id: string): void {
    void publishChange(id, { kind: 'delete', state: 'sending' }, MESSAGE_NAMES.delete, { id });
  }

  async function publishChange(id: string, op: PendingOp, name: string, data: Record<string, string>): Promise<void> {
    const ch = current;
    const me = session.clientId;
    if (!ch || !me) return;
    ops.value[id] = op;
    const fail = (error: string) => {
      if (current === ch && ops.value[id]) ops.value[id] = { ...op, state: 'failed', error };
    };
    try {
      await ch.outgoing.publish({ id: newMessageId(me), name, data });
      startTimer(id, () => fail('not confirmed by the server'));
    } catch (err) {
      fail(errorText(err));
    }
  }

  function dismissOp(id: string): void {
    delete ops.value[id];
  }

  function startTimer(id: string, onTimeout: () => void): void {
    clearTimer(id);
    timers.set(id, setTimeout(() => (timers.delete(id), onTimeout()), CONFIRM_TIMEOUT_MS));
  }

  function clearTimer(id: string): void {
    const t = timers.get(id);
    if (t) clearTimeout(t);
    timers.delete(id);
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
    ops,
    older,
    members,
    presenceError,
    typingNames: typing.names,
    join,
    leave,
    loadOlder,
    send,
    retry,
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
