/**
 * The integration presets a user names with `--rules`: a rules file and, where the preset needs
 * it, the Lambda function's asynchronous-invocation config (AWS's EventInvokeConfig).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { EventInvokeOptions } from './event-invoke.ts';

const rules = (name: string) => fileURLToPath(new URL(`../realtime/rules/${name}`, import.meta.url));

export interface RulesPreset {
  rulesFile: string;
  eventInvokeConfig?: EventInvokeOptions;
}

export const RULES_PRESETS = {
  /** As Ably's Lambda integration and AWS's asynchronous invocation behave: retried twice, then dropped. */
  'ably-lambda': { rulesFile: rules('chat-rules.json') },
  /** The ideal: one invocation at a time per channel, retried until it succeeds. */
  ordered: { rulesFile: rules('chat-rules.ordered.json') },
  /** The default, with the function's on-failure destination, replayed once the stack is quiet. */
  'ably-lambda-destination': { rulesFile: rules('chat-rules.destination.json'), eventInvokeConfig: { onFailure: true, replayWhenQuiet: true } },
  /** Ably -> a queue -> Lambda's event-source mapping: retried until success, dead-letter after many receives. */
  queue: { rulesFile: rules('chat-rules.queue.json') },
} satisfies Record<string, RulesPreset>;

export type RulesPresetName = keyof typeof RULES_PRESETS;
export const RULES_PRESET_NAMES = Object.keys(RULES_PRESETS) as RulesPresetName[];

/** A preset name or a rules file; undefined when it is neither. */
export function resolveRules(arg: string): RulesPreset | undefined {
  if (arg in RULES_PRESETS) return RULES_PRESETS[arg as RulesPresetName];
  return existsSync(arg) ? { rulesFile: arg } : undefined;
}
