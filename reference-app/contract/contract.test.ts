/** The contract must load in a browser, a Lambda and k6-free Node: it imports only itself. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { channelWildcard, INCOMING_CHANNEL_TEMPLATE, isChangeName, outgoingChannel, roomOfOutgoing } from './index.ts';

const DIR = dirname(fileURLToPath(import.meta.url));

describe('chat contract', () => {
  it('imports nothing but its own files', () => {
    const sources = readdirSync(DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(sources).toContain('index.ts');
    for (const file of sources) {
      const text = readFileSync(join(DIR, file), 'utf8');
      const specifiers = [...text.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
      for (const s of specifiers) expect(s, `${file} imports ${s}`).toMatch(/^\.\/[a-z-]+\.ts$/);
    }
  });

  it('names the channels of a room and finds the room back from outgoing', () => {
    expect(outgoingChannel('lobby')).toBe('chat:lobby:outgoing');
    expect(roomOfOutgoing(outgoingChannel('r_1-x'))).toBe('r_1-x');
    expect(roomOfOutgoing('chat:lobby:incoming')).toBeNull();
    expect(roomOfOutgoing('chat:a:b:outgoing')).toBeNull();
    expect(channelWildcard('incoming')).toBe('chat:*:incoming');
    expect(INCOMING_CHANNEL_TEMPLATE).toBe('chat:{room}:incoming');
    expect(isChangeName('DELETE')).toBe(true);
    expect(isChangeName('chat.post')).toBe(false);
  });
});
