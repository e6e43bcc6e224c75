/**
 * Waiting invocations, one FIFO per channel, served round-robin across channels: one room's flood
 * then waits behind itself, not in front of every other room's writes.
 */
export class FairQueue<T extends { channel: string }> {
  private readonly byChannel = new Map<string, T[]>();
  /** Channels with waiting items, in the order they are next served. */
  private readonly turn: string[] = [];
  private head = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    let q = this.byChannel.get(item.channel);
    if (!q) {
      q = [];
      this.byChannel.set(item.channel, q);
      this.turn.push(item.channel);
    }
    q.push(item);
    this.size++;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const channel = this.turn[this.head++]!;
    const q = this.byChannel.get(channel)!;
    const item = q.shift()!;
    this.size--;
    if (q.length > 0) this.turn.push(channel);
    else this.byChannel.delete(channel);
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
