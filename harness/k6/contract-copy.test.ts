/**
 * The k6 lib carries a pinned copy of the chat contract's wire names (k6 cannot import Node
 * modules): the copy must be the contract's marked region, character for character, and give
 * the same names.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as contract from '../../reference-app/contract/names.ts';
import * as copy from '../../scenarios/k6/lib/chat-names.ts';
import { chatDelete, chatEdit, chatPost, typingMessage } from '../../scenarios/k6/lib/protocol.ts';

const region = (path: string): string => {
  const text = readFileSync(new URL(path, import.meta.url), 'utf8');
  const start = text.indexOf('// <wire-names>');
  const end = text.indexOf('// </wire-names>');
  expect(start, `${path} has the wire-names markers`).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  return text.slice(start, end);
};

describe('k6 copy of the chat contract', () => {
  it('is the contract region verbatim', () => {
    expect(region('../../scenarios/k6/lib/chat-names.ts')).toBe(region('../../reference-app/contract/names.ts'));
  });

  it('gives the same channel and message names', () => {
    for (const room of ['lobby', 'r-1_x']) {
      for (const kind of contract.CHANNEL_KINDS) expect(copy.channelName(room, kind)).toBe(contract.channelName(room, kind));
      expect(copy.outgoingChannel(room)).toBe(contract.outgoingChannel(room));
      expect(copy.incomingChannel(room)).toBe(contract.incomingChannel(room));
      expect(copy.typingChannel(room)).toBe(contract.typingChannel(room));
    }
    expect(copy.MESSAGE_NAMES).toEqual(contract.MESSAGE_NAMES);
    expect(copy.CHANGE_NAMES).toEqual(contract.CHANGE_NAMES);
    expect([chatPost('a', 't'), chatEdit('b', 'a', 't'), chatDelete('c', 'a'), typingMessage('d')].map((m) => m.name)).toEqual([
      contract.MESSAGE_NAMES.post,
      contract.MESSAGE_NAMES.edit,
      contract.MESSAGE_NAMES.delete,
      contract.MESSAGE_NAMES.typing,
    ]);
  });
});
