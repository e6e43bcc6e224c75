/**
 * The chat's wire names: which channel carries what for a room, and the message names on them.
 * Clients, the chat-writer, the token endpoint and the load tools all spell them from here.
 *
 * The region between the `wire-names` markers is copied verbatim into
 * `scenarios/k6/lib/chat-names.ts` (k6 cannot import this folder); a test keeps the two equal.
 */

// <wire-names>
/** Channels of one room: clients publish on outgoing, the connector on incoming, typists on typing. */
export const CHANNEL_KINDS = ['outgoing', 'incoming', 'typing'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export function channelName(room: string, kind: ChannelKind): string {
  return 'chat:' + room + ':' + kind;
}
export const outgoingChannel = (room: string): string => channelName(room, 'outgoing');
export const incomingChannel = (room: string): string => channelName(room, 'incoming');
export const typingChannel = (room: string): string => channelName(room, 'typing');

/** Names of what clients publish: operations on outgoing, indicators on typing. */
export const MESSAGE_NAMES = { post: 'chat.post', edit: 'chat.edit', delete: 'chat.delete', typing: 'typing' } as const;

/** Names of the connector's row changes on incoming. */
export const CHANGE_NAMES = ['INSERT', 'UPDATE', 'DELETE'] as const;
export type ChangeName = (typeof CHANGE_NAMES)[number];
// </wire-names>

export type OperationName = (typeof MESSAGE_NAMES)['post' | 'edit' | 'delete'];
export const OPERATION_NAMES: readonly OperationName[] = [MESSAGE_NAMES.post, MESSAGE_NAMES.edit, MESSAGE_NAMES.delete];

/** A room name as every part accepts it. */
export const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Every room's channel of one kind, as Ably capabilities and integration rules name them
 * (`chat:*:outgoing`).
 */
export function channelWildcard(kind: ChannelKind): string {
  return channelName('*', kind);
}

/** The connector's channel template for incoming: `{room}` is filled from the row's column. */
export const INCOMING_CHANNEL_TEMPLATE = channelName('{room}', 'incoming');

const OUTGOING = /^chat:([A-Za-z0-9_-]{1,64}):outgoing$/;

/** The room of an outgoing channel name, or null when the name is not one. */
export function roomOfOutgoing(channel: string | undefined): string | null {
  return channel ? (OUTGOING.exec(channel)?.[1] ?? null) : null;
}

export function isChangeName(name: unknown): name is ChangeName {
  return typeof name === 'string' && (CHANGE_NAMES as readonly string[]).includes(name);
}

export function isOperationName(name: unknown): name is OperationName {
  return typeof name === 'string' && (OPERATION_NAMES as readonly string[]).includes(name);
}
