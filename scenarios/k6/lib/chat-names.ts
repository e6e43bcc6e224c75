/**
 * The chat's wire names for the k6 scripts: a pinned copy of the marked region of
 * `reference-app/contract/names.ts` (k6 runs no Node modules, so it cannot import the contract).
 * `harness/k6/contract-copy.test.ts` fails when the two differ: change the contract, then paste
 * its region here.
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
