/** Numbers of Ably's realtime protocol (v6), as the ably SDK reads and writes them. */

export const Action = {
  HEARTBEAT: 0,
  ACK: 1,
  NACK: 2,
  CONNECT: 3,
  CONNECTED: 4,
  DISCONNECT: 5,
  DISCONNECTED: 6,
  CLOSE: 7,
  CLOSED: 8,
  ERROR: 9,
  ATTACH: 10,
  ATTACHED: 11,
  DETACH: 12,
  DETACHED: 13,
  PRESENCE: 14,
  MESSAGE: 15,
  SYNC: 16,
  AUTH: 17,
} as const;

export const Flag = {
  HAS_PRESENCE: 1 << 0,
  HAS_BACKLOG: 1 << 1,
  RESUMED: 1 << 2,
  ATTACH_RESUME: 1 << 5,
  PRESENCE: 1 << 16,
  PUBLISH: 1 << 17,
  SUBSCRIBE: 1 << 18,
  PRESENCE_SUBSCRIBE: 1 << 19,
  ANNOTATION_PUBLISH: 1 << 21,
  ANNOTATION_SUBSCRIBE: 1 << 22,
} as const;

/** The channel-mode bits this service grants; object modes (LiveObjects) are never granted. */
export const MODE_MASK = Flag.PRESENCE | Flag.PUBLISH | Flag.SUBSCRIBE | Flag.PRESENCE_SUBSCRIBE | Flag.ANNOTATION_PUBLISH | Flag.ANNOTATION_SUBSCRIBE;

/** Mode names as the `modes` channel param spells them (comma-separated, lower case). */
export const MODE_BY_NAME: Readonly<Record<string, number>> = {
  presence: Flag.PRESENCE,
  publish: Flag.PUBLISH,
  subscribe: Flag.SUBSCRIBE,
  presence_subscribe: Flag.PRESENCE_SUBSCRIBE,
  annotation_publish: Flag.ANNOTATION_PUBLISH,
  annotation_subscribe: Flag.ANNOTATION_SUBSCRIBE,
};

export const PresenceAction = { ABSENT: 0, PRESENT: 1, ENTER: 2, LEAVE: 3, UPDATE: 4 } as const;

export const PROTOCOL_VERSION = 6;

export type Format = 'json' | 'msgpack';
