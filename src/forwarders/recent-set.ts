/**
 * A bounded set of recently seen keys: past its capacity the oldest key is forgotten. Used to drop
 * duplicate deliveries of the same (alertId, state) to a target.
 */
export class RecentSet {
  /** Most keys remembered. */
  readonly capacity: number;
  // A Map iterates in insertion order, so its first key is the oldest.
  private readonly keys = new Map<string, true>();

  /**
   * @throws RangeError when `capacity` is not an integer ≥ 1.
   */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity: must be an integer ≥ 1, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Keys currently remembered. */
  get size(): number {
    return this.keys.size;
  }

  /** True when `key` was added and not yet forgotten. */
  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** Remembers `key` as the newest, forgetting the oldest past the capacity. */
  add(key: string): void {
    this.keys.delete(key);
    this.keys.set(key, true);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.keys().next();
      if (oldest.done !== true) this.keys.delete(oldest.value);
    }
  }
}
