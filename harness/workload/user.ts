/**
 * What the runner, the planner and hostile clients need of a chat user, whichever thread or
 * client library runs it: an in-thread `VirtualUser`, or a proxy of one in a worker thread.
 */
export interface ChatUser {
  readonly clientId: string;
  readonly room: string;
  /** Posts of this user that the realtime service acknowledged (edit targets). */
  readonly ownPosts: string[];
  readonly deleted: Set<string>;
  readonly isJoined: boolean;
  /** Reattachments of incoming that lost continuity. */
  readonly continuityLosses: number;
  readonly catchUpErrors: readonly string[];
  join(): Promise<void>;
  leave(opts?: { asOperation?: boolean }): Promise<void>;
  /** Resolves true when the realtime service acknowledged the post. */
  post(opId: string, text: string): Promise<boolean>;
  edit(opId: string, target: string, text: string): Promise<void>;
  delete(opId: string, target: string): Promise<void>;
  typing(opId: string): Promise<void>;
  settled(timeoutMs?: number): Promise<void>;
  recordView(): Promise<void> | void;
}

/** Which client reader-only users run: the real SDK, or the minimal protocol subscriber. */
export type ReaderClient = 'sdk' | 'light';
export const READER_CLIENTS: readonly ReaderClient[] = ['sdk', 'light'];
