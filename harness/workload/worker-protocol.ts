/** Messages between the main thread and a virtual-user worker (see worker-pool.ts, vu-worker.ts). */
import type * as Ably from 'ably';
import type { EventBatch } from './thread-recorder.ts';
import type { ReaderClient } from './user.ts';

export interface WorkerInit {
  index: number;
  /** The run clock's origin on process.hrtime (ns). */
  startNs: bigint;
  epochMs: number;
  realtime: Ably.ClientOptions;
  loginUrl: string;
  tokenUrl: string;
  historyUrl?: string;
  ignoreVersions: boolean;
  healthIntervalMs: number;
}

export interface CreateUser {
  kind: 'create';
  id: number;
  clientId: string;
  room: string;
  /** Loads the room's history on join (late joiners, returning readers). */
  late: boolean;
  client: ReaderClient;
}

export type UserMethod = 'join' | 'leave' | 'post' | 'edit' | 'delete' | 'typing' | 'settled' | 'recordView';

export interface CallUser {
  kind: 'call';
  callId: number;
  id: number;
  method: UserMethod;
  args: Array<string | number | boolean | { asOperation?: boolean }>;
}

export type ToWorker =
  | CreateUser
  | CallUser
  | { kind: 'health'; callId: number; action: 'start' | 'stop' };

export interface UserState {
  joined: boolean;
  continuityLosses: number;
  catchUpErrors: string[];
}

export type FromWorker =
  | EventBatch
  | { kind: 'result'; callId: number; ok: true; value: unknown; state?: UserState }
  | { kind: 'result'; callId: number; ok: false; error: string; state?: UserState }
  | { kind: 'fatal'; error: string };
