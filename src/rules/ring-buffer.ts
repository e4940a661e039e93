/** A fixed-capacity buffer that keeps the most recent items, overwriting the oldest. */
export class RingBuffer<T> {
  /** Most items kept. */
  readonly capacity: number;
  private readonly items: T[] = [];
  private next = 0;

  /** @throws RangeError when `capacity` is not a positive safe integer. */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Number of items held. */
  get size(): number {
    return this.items.length;
  }

  /** Adds an item, dropping the oldest when full. */
  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The last `limit` items pushed (all by default), oldest first. A limit that is not a positive number yields none. */
  latest(limit: number = this.capacity): T[] {
    const n = Math.min(this.items.length, Number.isNaN(limit) ? 0 : Math.max(0, Math.floor(limit)));
    const out: T[] = [];
    for (let i = n; i >= 1; i--) out.push(this.items[(this.next - i + this.capacity) % this.capacity]);
    return out;
  }
}
