/**
 * Honest delivery state for the user's own writes. A publish the realtime service accepted is
 * still unconfirmed until its row change comes back on incoming; until then a write is pending,
 * then slow ("still sending…"), and after a long silence failed and retryable. A write the
 * chat-writer refused never comes back at all: the writer records the refusal in the database,
 * and this tracker asks the rejections endpoint about the writes still open, so the author sees
 * the reason instead of waiting forever.
 */
export type WriteStatus = 'pending' | 'slow' | 'failed' | 'refused';

export interface DeliveryTimings {
  /** Unconfirmed this long: say "still sending…". */
  slowAfterMs: number;
  /** Unconfirmed this long: failed, offer a retry (a retry is idempotent by id). */
  failAfterMs: number;
  /** How often to ask about refusals while a write is open. */
  pollEveryMs: number;
}

export const DEFAULT_TIMINGS: DeliveryTimings = { slowAfterMs: 2_500, failAfterMs: 30_000, pollEveryMs: 1_000 };

export interface DeliveryTracker {
  /** Starts (or restarts, on retry) watching a write; `opId` is the realtime message id. */
  track(key: string, opId: string): void;
  /** Its row change arrived (or it was abandoned): stop watching. */
  settle(key: string): void;
  reset(): void;
}

interface Open {
  opId: string;
  since: number;
  timers: Array<ReturnType<typeof setTimeout>>;
}

export function createDeliveryTracker(opts: {
  onStatus: (key: string, status: WriteStatus, reason?: string) => void;
  /** The refusal reasons among these op ids (the user's own); throws when unreachable. */
  fetchRefusals: (opIds: string[]) => Promise<Array<{ id: string; reason: string }>>;
  timings?: DeliveryTimings;
}): DeliveryTracker {
  const t = opts.timings ?? DEFAULT_TIMINGS;
  const open = new Map<string, Open>();
  let poll: ReturnType<typeof setTimeout> | null = null;

  const schedulePoll = () => {
    if (poll || open.size === 0) return;
    poll = setTimeout(() => void askAboutRefusals(), t.pollEveryMs);
  };

  async function askAboutRefusals(): Promise<void> {
    const byOp = new Map([...open].map(([key, o]) => [o.opId, key] as const));
    try {
      if (byOp.size > 0) {
        for (const r of await opts.fetchRefusals([...byOp.keys()].slice(0, 100))) {
          const key = byOp.get(r.id);
          if (key === undefined || open.get(key)?.opId !== r.id) continue;
          settle(key);
          opts.onStatus(key, 'refused', r.reason);
        }
      }
    } catch {
      // Unreachable for now: the timers still say slow, then failed.
    } finally {
      poll = null;
      schedulePoll();
    }
  }

  function settle(key: string): void {
    const o = open.get(key);
    if (!o) return;
    for (const x of o.timers) clearTimeout(x);
    open.delete(key);
  }

  return {
    track(key, opId) {
      settle(key);
      const timers = [
        setTimeout(() => opts.onStatus(key, 'slow'), t.slowAfterMs),
        setTimeout(() => (settle(key), opts.onStatus(key, 'failed')), t.failAfterMs),
      ];
      open.set(key, { opId, since: Date.now(), timers });
      opts.onStatus(key, 'pending');
      schedulePoll();
    },
    settle,
    reset() {
      for (const key of [...open.keys()]) settle(key);
      if (poll) clearTimeout(poll);
      poll = null;
    },
  };
}

/** What a refusal means to the person who wrote the message. */
export function refusalText(reason: string): string {
  switch (reason) {
    case 'invalid_text':
      return 'it contains a character the chat cannot store';
    case 'text_too_long':
      return 'it is longer than the 4,000-character limit';
    case 'empty_text':
      return 'it is empty';
    case 'not_author':
      return 'only its author can change this message';
    case 'already_deleted':
    case 'target_rejected':
    case 'unknown_target':
      return 'the message no longer exists';
    case 'wrong_room':
      return 'the message is in another room';
    default:
      return `the server refused it (${reason})`;
  }
}
