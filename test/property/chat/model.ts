/**
 * The model the commands run against: who is in which room, which messages exist, with the
 * version, text and deleted flag the chat must end up with. It is what the stack should do,
 * written the simplest way: an edit or delete by the author bumps the version once, `deleted` is
 * sticky, the text is the author's last edit, and anyone else's edit or delete changes nothing.
 */
import type { DbRow } from '../../../harness/history/types.ts';

export const ROOMS = 2;

export interface ModelUser {
  name: string;
  room: number;
  joined: boolean;
  /** The users a run starts with stay to the end, so each room keeps a view to judge. */
  setup: boolean;
}

export interface ModelMessage {
  id: string;
  room: number;
  author: string;
  version: number;
  deleted: boolean;
  text: string;
  /** False once an operation on it had no clear outcome (a publish failed or timed out). */
  certain: boolean;
}

export interface ChatModel {
  users: ModelUser[];
  messages: ModelMessage[];
  /** Realtime delivery paused (every frame to every client is held). */
  paused: boolean;
  connectorDown: boolean;
}

export function initialModel(userNames: readonly string[], rooms: readonly number[]): ChatModel {
  return {
    users: userNames.map((name, i) => ({ name, room: rooms[i]!, joined: true, setup: true })),
    messages: [],
    paused: false,
    connectorDown: false,
  };
}

export const joinedUsers = (m: ChatModel): ModelUser[] => m.users.filter((u) => u.joined);
export const userNamed = (m: ChatModel, name: string): ModelUser | undefined => m.users.find((u) => u.name === name);

/** Live messages whose author is still here to edit them. */
export function editable(m: ChatModel): ModelMessage[] {
  return m.messages.filter((msg) => !msg.deleted && userNamed(m, msg.author)?.joined);
}

/** (someone else in the room, message) pairs: an edit or delete the chat-writer must refuse. */
export function foreignPairs(m: ChatModel): Array<{ user: ModelUser; msg: ModelMessage }> {
  const out: Array<{ user: ModelUser; msg: ModelMessage }> = [];
  for (const msg of m.messages) {
    for (const user of joinedUsers(m)) if (user.room === msg.room && user.name !== msg.author) out.push({ user, msg });
  }
  return out;
}

/** Where the final database disagrees with the model (rooms of this run only). */
export function modelMismatches(m: ChatModel, rows: readonly DbRow[], roomName: (i: number) => string): string[] {
  const out: string[] = [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const known = new Set(m.messages.map((x) => x.id));
  for (const msg of m.messages) {
    const row = byId.get(msg.id);
    if (!msg.certain) continue;
    if (!row) {
      out.push(`${msg.id}: acknowledged post by ${msg.author} is not in the database`);
      continue;
    }
    const want = `room ${roomName(msg.room)}, author ${msg.author}, v${msg.version}, ${msg.deleted ? 'deleted' : 'live'}, text ${JSON.stringify(msg.text)}`;
    const got = `room ${row.room}, author ${row.author}, v${row.version}, ${row.deleted ? 'deleted' : 'live'}, text ${JSON.stringify(row.text)}`;
    if (want !== got) out.push(`${msg.id}: the model says ${want}; the database has ${got}`);
  }
  for (const row of rows) if (!known.has(row.id)) out.push(`${row.id}: in the database (by ${row.author}), but no acknowledged post created it`);
  return out;
}
