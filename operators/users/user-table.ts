/**
 * Slot table for per-user state kept as struct-of-arrays: every user id maps to a small integer
 * slot, and the owner keeps its columns in typed arrays indexed by that slot.
 *
 * - an array `slot → id`, and for the reverse an open-addressing hash index (linear probing, at
 *   most half full, backward-shift deletion) of `slot + 1` in an `Int32Array`: 8–16 bytes per user
 *   where a `Map<string, number>` takes ~28–56, and nothing for the garbage collector to trace;
 * - freed slots are reused through an intrusive free list (threaded through the `next` column);
 * - an intrusive doubly linked list in promotion order (least recently promoted at the head; see
 *   {@link UserTable.promote}) gives O(1) least-recently-seen eviction when the table is full, and
 *   O(1)-amortised idle eviction:
 *   {@link UserTable.evictIdle} pops heads while they are idle, so each user costs one pop over
 *   its lifetime;
 * - columns start at a small capacity and double (up to `maxUsers`); the owner is told through
 *   `onGrow` and copies its own columns, so growth is amortised O(1) per admitted user.
 *
 * Retained memory: 24 bytes per slot here (`lastSeen` 8, `prev`/`next` links 8, the id reference 8)
 * plus 4 bytes per index entry (2–4 per user once the index has grown) and the id string (see
 * {@link UserTable.memoryBytes}).
 *
 * @packageDocumentation
 */

import { VigilError } from '../../src/errors.js';

/** Options of a {@link UserTable}. */
export interface UserTableOptions {
  /** Most users held at once; admitting one more evicts the least recently promoted. `>= 1`. */
  maxUsers: number;
  /** Slots allocated up front (clamped to `maxUsers`); the table doubles from there. Default 1024. */
  initialCapacity?: number;
  /** Called after the capacity grew to `capacity`: the owner grows its columns to match. */
  onGrow?: (capacity: number) => void;
  /** Called just before `slot` (holding `userId`) is freed, whether idle or least recently promoted. */
  onEvict?: (slot: number, userId: string) => void;
}

const NONE = -1;
const INDEX_MIN = 16;
const FAST_ARRAY_MAX = 1 << 24;

/**
 * 32-bit hash of a string: FNV-1a over the UTF-16 code units from `seed`, then murmur3's
 * finaliser (FNV's low bits mix poorly, and both the id index and the session sketch use them).
 */
export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Grows a typed array to `capacity` elements, keeping its contents. */
export function growFloat64(a: Float64Array, capacity: number): Float64Array {
  const b = new Float64Array(capacity);
  b.set(a);
  return b;
}

/** Grows a typed array to `capacity` elements, keeping its contents. */
export function growInt32(a: Int32Array, capacity: number): Int32Array {
  const b = new Int32Array(capacity);
  b.set(a);
  return b;
}

/** Grows a typed array to `capacity` elements, keeping its contents. */
export function growUint32(a: Uint32Array, capacity: number): Uint32Array {
  const b = new Uint32Array(capacity);
  b.set(a);
  return b;
}

/** Grows a typed array to `capacity` elements, keeping its contents. */
export function growUint16(a: Uint16Array, capacity: number): Uint16Array {
  const b = new Uint16Array(capacity);
  b.set(a);
  return b;
}

/** Grows a typed array to `capacity` elements, keeping its contents. */
export function growUint8(a: Uint8Array, capacity: number): Uint8Array {
  const b = new Uint8Array(capacity);
  b.set(a);
  return b;
}

/**
 * Estimated bytes of a V8 one-byte string of `length` characters: 16 bytes of header (map, hash,
 * length) plus the characters, rounded up to 8.
 */
export function stringBytes(length: number): number {
  return 16 + ((length + 7) & ~7);
}

/**
 * Estimated bytes of a V8 `Map` holding `entries` entries: an OrderedHashMap has a power-of-two
 * capacity of at least the entry count, 3 words per entry (key, value, chain) and one bucket
 * word per 2 entries of capacity.
 */
export function mapBytes(entries: number): number {
  let capacity = 4;
  while (capacity < entries) capacity *= 2;
  return capacity * 28 + 64;
}

/** Id ↔ slot table with promotion-order eviction; see the module documentation. */
export class UserTable {
  /** Most users held at once. */
  readonly maxUsers: number;
  /** Latest event time each slot was touched with (the maximum, so late events do not age a user). */
  lastSeen: Float64Array;

  private ids: (string | undefined)[];
  // `slot + 1` per entry, 0 = empty (a fresh array is all empty without a fill).
  private index: Int32Array;
  // A per-table seed: ids come from outside, and a fixed hash would let crafted ids collide.
  private readonly seed: number;
  // prev at 2·slot, next at 2·slot + 1: one cache line per relink instead of two.
  private links: Int32Array;
  private head = NONE;
  private tail = NONE;
  private freeHead = NONE;
  private used = 0;
  private count = 0;
  private cap: number;
  private keyBytes = 0;
  private readonly onGrow: ((capacity: number) => void) | undefined;
  private readonly onEvict: ((slot: number, userId: string) => void) | undefined;

  constructor(options: UserTableOptions) {
    const { maxUsers, initialCapacity = 1024 } = options;
    if (!Number.isSafeInteger(maxUsers) || maxUsers < 1) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `maxUsers must be a positive integer, got ${String(maxUsers)}`, {
        details: { key: 'maxUsers' },
      });
    }
    if (!Number.isSafeInteger(initialCapacity) || initialCapacity < 1) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `initialCapacity must be a positive integer, got ${String(initialCapacity)}`, {
        details: { key: 'initialCapacity' },
      });
    }
    this.maxUsers = maxUsers;
    this.cap = Math.min(initialCapacity, maxUsers);
    this.lastSeen = new Float64Array(this.cap);
    this.links = new Int32Array(this.cap * 2);
    this.ids = new Array<string | undefined>(this.cap).fill(undefined);
    let n = INDEX_MIN;
    while (n < 2 * this.cap && n < 2 ** 30) n *= 2;
    this.index = new Int32Array(n);
    this.seed = (Math.random() * 2 ** 32) >>> 0;
    this.onGrow = options.onGrow;
    this.onEvict = options.onEvict;
  }

  /** Users currently held. */
  get size(): number {
    return this.count;
  }

  /** Slots allocated (the length of every column). */
  get capacity(): number {
    return this.cap;
  }

  /** The slot of `userId`, or -1 when it is not held. */
  slotOf(userId: string): number {
    const index = this.index;
    const mask = index.length - 1;
    const ids = this.ids;
    for (let i = hashString(userId, this.seed) & mask; ; i = (i + 1) & mask) {
      const e = index[i];
      if (e === 0) return NONE;
      if (ids[e - 1] === userId) return e - 1;
    }
  }

  /** The id held in `slot` (which must be in use). */
  idOf(slot: number): string {
    return this.ids[slot] as string;
  }

  /** The least recently promoted slot, or -1 when empty. */
  leastRecent(): number {
    return this.head;
  }

  /**
   * Admits `userId` (which must not be held) at event time `time` and returns its slot, most
   * recently promoted. Reuses a freed slot, else grows, else (at `maxUsers`) evicts the least
   * recently promoted user and reuses its slot.
   */
  admit(userId: string, time: number): number {
    let slot: number;
    if (this.freeHead !== NONE) {
      slot = this.freeHead;
      this.freeHead = this.links[2 * slot + 1];
    } else if (this.used < this.cap) {
      slot = this.used++;
    } else if (this.cap < this.maxUsers) {
      this.grow();
      slot = this.used++;
    } else {
      this.evict(this.head);
      slot = this.freeHead;
      this.freeHead = this.links[2 * slot + 1];
    }
    if (2 * (this.count + 1) > this.index.length) this.growIndex();
    this.insert(slot, hashString(userId, this.seed));
    this.count++;
    this.ids[slot] = userId;
    this.keyBytes += stringBytes(userId.length);
    this.lastSeen[slot] = time;
    this.linkTail(slot);
    return slot;
  }

  /**
   * Records a request of `slot` at `time`: its `lastSeen` becomes the later of the two times. The
   * touch order is not changed; see {@link promote}.
   */
  touch(slot: number, time: number): void {
    if (time > this.lastSeen[slot]) this.lastSeen[slot] = time;
  }

  /**
   * Moves `slot` to the most recently promoted end of the eviction order. Owners may call this
   * less often than {@link touch} (the tracker does once per user and bucket), which keeps the
   * order exact to that granularity and saves the neighbours' cache misses on every request.
   */
  promote(slot: number): void {
    if (slot === this.tail) return;
    this.unlink(slot);
    this.linkTail(slot);
  }

  /**
   * Evicts users in promotion order while the least recently promoted one was last seen at or before
   * `cutoff`; returns how many. Stops at the first one seen later, so an idle user may outlive the
   * cutoff by as much as the promotion order lags the `lastSeen` order (event times out of order,
   * promotions less frequent than touches).
   */
  evictIdle(cutoff: number): number {
    let n = 0;
    while (this.head !== NONE && this.lastSeen[this.head] <= cutoff) {
      this.evict(this.head);
      n++;
    }
    return n;
  }

  /** Removes the user in `slot` (calling `onEvict` first) and frees the slot for reuse. */
  evict(slot: number): void {
    const id = this.ids[slot] as string;
    this.onEvict?.(slot, id);
    this.remove(slot, id);
    this.count--;
    this.ids[slot] = undefined;
    this.keyBytes -= stringBytes(id.length);
    this.unlink(slot);
    this.links[2 * slot + 1] = this.freeHead;
    this.freeHead = slot;
  }

  /** Calls `fn` for every held slot, least recently promoted first. `fn` must not admit or evict. */
  forEachSlot(fn: (slot: number) => void): void {
    for (let s = this.head; s !== NONE; s = this.links[2 * s + 1]) fn(s);
  }

  /**
   * Estimated retained bytes: the columns (24 bytes per allocated slot), the hash index (4 bytes
   * per entry) and the id strings (as one-byte strings; ids shared with the caller are counted
   * anyway).
   */
  memoryBytes(): number {
    return this.cap * 24 + this.index.length * 4 + this.keyBytes;
  }

  private grow(): void {
    const cap = Math.min(this.maxUsers, this.cap * 2);
    this.lastSeen = growFloat64(this.lastSeen, cap);
    this.links = growInt32(this.links, cap * 2);
    // A longer length grows the elements to exactly `cap` (pushing overshoots by up to half), but
    // past V8's fast-array limit (~32 M elements) it would turn them into a dictionary.
    if (cap <= FAST_ARRAY_MAX) this.ids.length = cap;
    else for (let i = this.cap; i < cap; i++) this.ids.push(undefined);
    this.cap = cap;
    this.onGrow?.(cap);
  }

  /** Puts `slot` (whose id hashes to `hash`) in the first empty entry from its home. */
  private insert(slot: number, hash: number): void {
    const index = this.index;
    const mask = index.length - 1;
    let i = hash & mask;
    while (index[i] !== 0) i = (i + 1) & mask;
    index[i] = slot + 1;
  }

  /** Takes `slot` (holding `id`) out of the index, shifting back the entries its removal would strand. */
  private remove(slot: number, id: string): void {
    const index = this.index;
    const mask = index.length - 1;
    let i = hashString(id, this.seed) & mask;
    while (index[i] !== slot + 1) i = (i + 1) & mask;
    // Knuth's algorithm R: an entry after the hole may move into it unless its home lies
    // cyclically in (hole, entry], where a lookup would no longer pass over the hole.
    for (let j = (i + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const home = hashString(this.ids[index[j] - 1] as string, this.seed) & mask;
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      index[i] = index[j];
      i = j;
    }
    index[i] = 0;
  }

  private growIndex(): void {
    const old = this.index;
    this.index = new Int32Array(old.length * 2);
    for (let i = 0; i < old.length; i++) {
      const e = old[i];
      if (e !== 0) this.insert(e - 1, hashString(this.ids[e - 1] as string, this.seed));
    }
  }

  private linkTail(slot: number): void {
    const links = this.links;
    links[2 * slot] = this.tail;
    links[2 * slot + 1] = NONE;
    if (this.tail === NONE) this.head = slot;
    else links[2 * this.tail + 1] = slot;
    this.tail = slot;
  }

  private unlink(slot: number): void {
    const links = this.links;
    const p = links[2 * slot];
    const n = links[2 * slot + 1];
    if (p === NONE) this.head = n;
    else links[2 * p + 1] = n;
    if (n === NONE) this.tail = p;
    else links[2 * n] = p;
  }
}
