/** The registry of named scenarios (`npm run scenario -- --list`). */
import type { ScenarioDefinition } from '../harness/runner/scenario.ts';
import editStorm from './edit-storm.ts';
import chatBurst from './chat-burst.ts';
import lateJoin from './late-join.ts';
import steady from './steady.ts';

export const scenarios: readonly ScenarioDefinition[] = [editStorm, chatBurst, lateJoin, steady];

export function findScenario(name: string): ScenarioDefinition | undefined {
  return scenarios.find((s) => s.name === name);
}
