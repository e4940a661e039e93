/**
 * A map that keeps at most a fixed number of entries, evicting the least recently used.
 */

/**
 * A least-recently-used cache: `get` and `set` make an entry the most recent; a `set` beyond
 * `capacity` evicts the least recent one. A `Map` keeps insertion order, so re-inserting an entry
 * on every hit is all the bookkeeping needed.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  /**
   * @param capacity Most entries kept; an integer ≥ 1.
   * @throws RangeError for a capacity below 1 or not an integer.
   */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity: must be an integer ≥ 1, got ${String(capacity)}`);
  }

  /** Entries held now. */
  get size(): number {
    return this.entries.size;
  }

  /** The value of `key` (now the most recent), or `undefined`. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** True when `key` is held; does not count as a use. */
  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Stores `value` as the most recent entry, evicting the least recent one beyond capacity. */
  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  /** Removes `key`. */
  delete(key: K): void {
    this.entries.delete(key);
  }
}
