/**
 * The integration rules the stack loads are data (JSON), so they cannot import the chat
 * contract: their channel patterns must select exactly the contract's outgoing channels.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { channelName, CHANNEL_KINDS } from '../../reference-app/contract/index.ts';

const RULES_DIR = join(import.meta.dirname, '..', 'realtime', 'rules');

describe('chat integration rules', () => {
  const files = readdirSync(RULES_DIR).filter((f) => /^chat-rules.*\.json$/.test(f));

  it.each(files)('%s invokes the writer for outgoing channels only', (file) => {
    const { rules } = JSON.parse(readFileSync(join(RULES_DIR, file), 'utf8')) as { rules: Array<{ channelPattern: string }> };
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const re = new RegExp(rule.channelPattern);
      for (const room of ['lobby', 'r-1_x']) {
        for (const kind of CHANNEL_KINDS) expect(re.test(channelName(room, kind)), `${rule.channelPattern} on ${kind}`).toBe(kind === 'outgoing');
      }
    }
  });
});
