/**
 * Ably's mutable messages: an update, delete or append of a published message, addressed by
 * its serial. Each change is stored as a new version (a serial of its own, later than the
 * message's), delivered to subscribers like a message with `action` and `version` set, and
 * answered by `GET /messages/:serial` (the latest version) and `/versions` (all of them).
 */
import type { Channel } from './channel.ts';
import { Errors } from './protocol/errors.ts';
import type { Payload, StoredMessage } from './protocol/payload.ts';

export const MessageAction = { CREATE: 0, UPDATE: 1, DELETE: 2, APPEND: 5 } as const;
const ACTION_NAMES = ['message.create', 'message.update', 'message.delete', 'meta', 'message.summary', 'message.append'];

/** The change a client asks for; undefined for a plain publish. */
export function changeAction(action: number | string | null | undefined): number | undefined {
  if (action === null || action === undefined) return undefined;
  const n = typeof action === 'number' ? action : ACTION_NAMES.indexOf(action);
  if (n === MessageAction.CREATE) return undefined;
  if (n === MessageAction.UPDATE || n === MessageAction.DELETE || n === MessageAction.APPEND) return n;
  throw Errors.badRequest(`Unsupported message action ${JSON.stringify(action)}`);
}

export interface MessageChange extends Payload {
  action: number;
  name?: string;
  extras?: unknown;
  clientId?: string;
  description?: string;
  metadata?: Record<string, string>;
}

/** The newest version of the message published as `serial`. */
export function latestVersion(ch: Channel | undefined, serial: string): StoredMessage {
  const original = ch?.original(serial);
  if (!ch || !original) throw Errors.notFound(`No message with serial "${serial}" on this channel`);
  return ch.versions.get(serial)?.at(-1) ?? original;
}

/** Every version of the message, newest first (as history pages are). */
export function allVersions(ch: Channel | undefined, serial: string): StoredMessage[] {
  const original = ch?.original(serial);
  if (!ch || !original) throw Errors.notFound(`No message with serial "${serial}" on this channel`);
  return [original, ...(ch.versions.get(serial) ?? [])].reverse();
}

/**
 * The new version a change makes of `current` (name, data and extras not given are kept), and
 * what subscribers receive: the version itself, except for an append, where they get only the
 * appended fragment (action append) while the stored version is the whole text (action update).
 */
export function applyChange(current: StoredMessage, change: MessageChange, versionSerial: string, now: number): { stored: StoredMessage; delivered: StoredMessage } {
  const stored = nextVersion(current, change, versionSerial, now);
  if (change.action !== MessageAction.APPEND) return { stored, delivered: stored };
  const delivered: StoredMessage = { ...stored, action: MessageAction.APPEND, data: change.data ?? '' };
  if (change.encoding !== undefined) delivered.encoding = change.encoding;
  else delete delivered.encoding;
  return { stored: { ...stored, action: MessageAction.UPDATE }, delivered };
}

function nextVersion(current: StoredMessage, change: MessageChange, versionSerial: string, now: number): StoredMessage {
  const next: StoredMessage = { ...current, action: change.action, version: { serial: versionSerial, timestamp: now } };
  if (change.clientId !== undefined) next.version!.clientId = change.clientId;
  if (change.description !== undefined) next.version!.description = change.description;
  if (change.metadata !== undefined) next.version!.metadata = change.metadata;
  if (change.name !== undefined) next.name = change.name;
  if (change.extras !== undefined) next.extras = change.extras;
  if (change.action === MessageAction.APPEND) {
    if (typeof current.data !== 'string' || typeof change.data !== 'string') throw Errors.badRequest('Only string data can be appended to');
    next.data = current.data + change.data;
  } else if (change.data !== undefined) {
    next.data = change.data;
    if (change.encoding !== undefined) next.encoding = change.encoding;
    else delete next.encoding;
  }
  return next;
}

/** An append as a later reader sees it (rewind): the whole text it made, not the fragment sent live. */
export function asStored(ch: Channel, m: StoredMessage): StoredMessage {
  if (m.action !== MessageAction.APPEND || !m.version) return m;
  return ch.versions.get(m.serial)?.find((v) => v.version?.serial === m.version!.serial) ?? m;
}
