/**
 * Waiting invocations, one FIFO per key (by default the channel), served round-robin across keys:
 * one key's flood then waits behind itself, not in front of everyone else's.
 */
export class FairQueue<T extends { channel: string }> {
  private readonly byChannel = new Map<string, T[]>();
  /** Keys with waiting items, in the order they are next served. */
  private readonly turn: string[] = [];

  constructor(private readonly keyOf: (item: T) => string = (item) => item.channel) {}

  private head = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    const key = this.keyOf(item);
    let q = this.byChannel.get(key);
    if (!q) {
      q = [];
      this.byChannel.set(key, q);
      this.turn.push(key);
    }
    q.push(item);
    this.size++;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const key = this.turn[this.head++]!;
    const q = this.byChannel.get(key)!;
    const item = q.shift()!;
    this.size--;
    if (q.length > 0) this.turn.push(key);
    else this.byChannel.delete(key);
    if (this.head > 1024 && this.head * 2 > this.turn.length) {
      this.turn.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.byChannel.clear();
    this.turn.length = 0;
    this.head = 0;
    this.size = 0;
  }
}
