/** Small concurrency helpers for the drain. */

/** A wake-up that is not lost when it fires before anyone waits. */
export class Signal {
  private pending = false;
  private waiter?: () => void;
  notify(): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w();
    } else this.pending = true;
  }
  wait(): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((r) => (this.waiter = r));
  }
}


/** A set that remembers only its most recent `capacity` members. */
export class RecentSet {
  private readonly set = new Set<number>();
  private readonly ring: number[];
  private next = 0;
  constructor(private readonly capacity: number) {
    this.ring = new Array<number>(capacity);
  }
  add(v: number): void {
    if (this.set.has(v)) return;
    const old = this.ring[this.next];
    if (old !== undefined) this.set.delete(old);
    this.ring[this.next] = v;
    this.next = (this.next + 1) % this.capacity;
    this.set.add(v);
  }
  has(v: number): boolean {
    return this.set.has(v);
  }
}
