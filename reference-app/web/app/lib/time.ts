/** How the chat speaks about time: day dividers, short relative times, a full timestamp on hover. */
import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue';

const MINUTE = 60_000;

function startOfDay(t: Date): number {
  return new Date(t.getFullYear(), t.getMonth(), t.getDate()).getTime();
}

/** The local calendar day of an instant, as a key for grouping. */
export function dayKey(iso: string): string {
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? '' : `${t.getFullYear()}-${t.getMonth() + 1}-${t.getDate()}`;
}

/** "Today", "Yesterday", or the full date, for a day divider. */
export function dayLabel(iso: string, now: number): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '';
  const days = Math.round((startOfDay(new Date(now)) - startOfDay(t)) / 86_400_000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return t.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

/** "just now", "5 min ago" within the hour; the clock time after that (the divider says the day). */
export function shortTime(iso: string, now: number): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '';
  const ago = now - t.getTime();
  if (ago < MINUTE) return 'just now';
  if (ago < 60 * MINUTE) return `${Math.floor(ago / MINUTE)} min ago`;
  return t.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** The full timestamp shown on hover. */
export function fullTime(iso: string): string {
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? '' : t.toLocaleString([], { dateStyle: 'full', timeStyle: 'medium' });
}

/** A clock that ticks every 30 s while the component lives, so relative times stay true. */
export function useNow(): Ref<number> {
  const now = ref(Date.now());
  let timer: ReturnType<typeof setInterval> | undefined;
  onMounted(() => (timer = setInterval(() => (now.value = Date.now()), 30_000)));
  onBeforeUnmount(() => clearInterval(timer));
  return now;
}

/** Characters as the chat-writer counts them (code points), so the counter and the limit agree. */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

export const MAX_TEXT_CHARS = 4000;
/** The counter appears this close to the limit. */
export const COUNTER_FROM = 3500;
