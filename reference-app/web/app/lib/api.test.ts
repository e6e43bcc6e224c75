import { describe, expect, it } from 'vitest';
import { parseChange } from './api.ts';

const row = {
  id: 'alice-1',
  room: 'lobby',
  author: 'alice',
  username: 'alice',
  text: 'hi',
  version: 1,
  edited: false,
  deleted: false,
  created_at: '2024-05-01T10:00:00.123456+00:00',
  updated_at: '2024-05-01T10:00:00.123456+00:00',
};

describe('incoming change events', () => {
  it('reads the connector payload, as an object or as a JSON string', () => {
    expect(parseChange('INSERT', { table: 'chat_messages', type: 'INSERT', row })).toEqual({ kind: 'INSERT', row });
    expect(parseChange('UPDATE', JSON.stringify({ row: { ...row, version: 2 } }))).toEqual({ kind: 'UPDATE', row: { ...row, version: 2 } });
  });

  it('names what is wrong with anything else', () => {
    expect(parseChange('chat.post', { row })).toEqual({ error: expect.stringContaining('expected INSERT, UPDATE or DELETE') });
    expect(parseChange('INSERT', '{not json')).toEqual({ error: expect.stringContaining('expected JSON') });
    const bad = parseChange('UPDATE', { row: { ...row, version: 0, text: 5 } });
    expect('error' in bad && bad.error).toMatch(/version[\s\S]*text|text[\s\S]*version/);
  });
});
