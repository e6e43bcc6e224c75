/**
 * Typing indicators on `chat:<room>:typing`: transient, never stored. A typist re-announces
 * itself while typing, so a lost "stopped" only leaves a stale name for a few seconds.
 */
import { computed, ref, type ComputedRef } from 'vue';

/** How often a typing user re-announces; receivers forget a typist after twice that. */
const ANNOUNCE_EVERY_MS = 2_000;
const FORGET_AFTER_MS = 2 * ANNOUNCE_EVERY_MS;

export interface TypingOptions {
  publish(data: { typing: boolean }): Promise<unknown> | undefined;
  /** The signed-in clientId: its own echoes are not shown. */
  self(): string | null;
}

export interface Typing {
  /** clientIds of the others typing now, sorted. */
  names: ComputedRef<string[]>;
  typed(): void;
  stopped(): void;
  received(clientId: string | undefined, data: unknown): void;
  reset(): void;
}

export function createTyping(opts: TypingOptions): Typing {
  const typists = ref<Record<string, true>>({});
  const forgetTimers = new Map<string, ReturnType<typeof setTimeout>>();
  let lastAnnounced = 0;

  const announce = (typing: boolean) => {
    // A failed typing signal is not worth telling the user about.
    void opts.publish({ typing })?.catch(() => {});
  };

  const forget = (clientId: string) => {
    const t = forgetTimers.get(clientId);
    if (t) clearTimeout(t);
    forgetTimers.delete(clientId);
    delete typists.value[clientId];
  };

  return {
    names: computed(() => Object.keys(typists.value).sort()),
    typed() {
      const now = Date.now();
      if (now - lastAnnounced < ANNOUNCE_EVERY_MS) return;
      lastAnnounced = now;
      announce(true);
    },
    stopped() {
      if (lastAnnounced === 0) return;
      lastAnnounced = 0;
      announce(false);
    },
    received(clientId, data) {
      if (!clientId || clientId === opts.self()) return;
      const typing = typeof data === 'object' && data !== null && (data as { typing?: unknown }).typing === true;
      forget(clientId);
      if (!typing) return;
      typists.value[clientId] = true;
      forgetTimers.set(clientId, setTimeout(() => forget(clientId), FORGET_AFTER_MS));
    },
    reset() {
      for (const id of [...forgetTimers.keys()]) forget(id);
      typists.value = {};
      lastAnnounced = 0;
    },
  };
}
