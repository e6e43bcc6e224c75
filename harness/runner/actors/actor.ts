/**
 * A scenario behaviour (load, late join, churn, hostile clients, the nemesis) as one actor, so
 * the runner only orchestrates and a new behaviour is a new actor, not an edit of the runner.
 */
import type { FinalState } from '../../history/types.ts';
import type { Rng } from '../../lib/rng.ts';
import type { ChatUser } from '../../workload/user.ts';
import type { LiveStats } from '../live-stats.ts';
import type { UserFactory } from '../users.ts';

export interface Actor {
  readonly name: string;
  /** Users to join before the load starts (hostile clients); the load's own come from `LoadActor`. */
  readonly users?: readonly ChatUser[];
  /** Schedules its work, timed from the start of the load. */
  start(): void;
  /** Stops scheduling new work once the load is over (what is under way goes on). */
  stop(): void;
  /** Waits for work under way to end. */
  settle(): Promise<void>;
  /** Judges its own outcome against the database, once the stack is quiet. */
  judge?(final: FinalState): void;
}

/** What the actors of one run share. */
export interface ActorContext {
  rooms: readonly string[];
  runTag: string;
  durationMs: number;
  users: UserFactory;
  stats: LiveStats;
  rng: Rng;
  say: (line: string) => void;
  /** Users that joined after the start (late joiners, returning readers): they owe a final view too. */
  late: ChatUser[];
  /** Users that left for good: they owe no final view. */
  gone: Set<ChatUser>;
  /** Rooms an actor made for itself (outside the load's `rooms`): the final state covers them too. */
  quietRooms: string[];
}

export async function inBatches<T>(items: readonly T[], size: number, fn: (x: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}
