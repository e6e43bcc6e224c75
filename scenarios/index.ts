/** The registry of named scenarios (`npm run scenario -- --list`). */
import type { ScenarioDefinition } from '../harness/runner/scenario.ts';
import editStorm from './edit-storm.ts';
import chatBurst from './chat-burst.ts';
import lateJoin from './late-join.ts';
import steady from './steady.ts';
import connectorCrash from './connector-crash.ts';
import connectorFailover from './connector-failover.ts';
import dbRestart from './db-restart.ts';
import dbOutage from './db-outage.ts';
import reconnectStorm from './reconnect-storm.ts';
import slowLambda from './slow-lambda.ts';
import hostileClients from './hostile-clients.ts';
import realtimeRestart from './realtime-restart.ts';
import lateRedelivery from './late-redelivery.ts';
import abuse from './abuse.ts';

export const scenarios: readonly ScenarioDefinition[] = [
  editStorm,
  chatBurst,
  lateJoin,
  steady,
  connectorCrash,
  connectorFailover,
  dbRestart,
  dbOutage,
  reconnectStorm,
  slowLambda,
  hostileClients,
  realtimeRestart,
  lateRedelivery,
  abuse,
];

export function findScenario(name: string): ScenarioDefinition | undefined {
  return scenarios.find((s) => s.name === name);
}
