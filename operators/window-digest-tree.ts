import type { DigestSource, TDigest } from './t-digest.js';

/**
 * An aligned block of sub-windows: level `level` holds the sub-windows with indices
 * `[index · 2^level, (index + 1) · 2^level)` (a sub-window's index is its start over its length).
 */
export interface DyadicBlock {
  readonly level: number;
  readonly index: number;
}

/**
 * The canonical decomposition of the sub-windows `[from, to)` into aligned blocks, left to right:
 * from `from`, each time the largest block that starts there and ends by `to`. At most
 * 2·log2(to − from) + 2 blocks, and the same blocks for the same range whatever came before.
 */
export function dyadicBlocks(from: number, to: number): DyadicBlock[] {
  const out: DyadicBlock[] = [];
  let at = from;
  while (at < to) {
    let level = 0;
    let size = 1;
    // Indices are whole numbers beyond 2^32 (100 ms sub-windows since 1970): no bit operations.
    while (at % (size * 2) === 0 && at + size * 2 <= to) {
      size *= 2;
      level++;
    }
    out.push({ level, index: at / size });
    at += size;
  }
  return out;
}

/** A node's key in the cache: index and level in one number (levels stay below 64). */
function nodeKey(level: number, index: number): number {
  return index * 64 + level;
}

/** First sub-window index a node key covers. */
function nodeStart(key: number): number {
  const level = key % 64;
  return ((key - level) / 64) * 2 ** level;
}

/**
 * The digest of any window of consecutive sub-windows, defined over aligned blocks so that a
 * window kept across slides costs a merge of O(log n) compressed digests per read instead of a
 * merge of every centroid in it, and so that it is the same digest — bit for bit — however it is
 * computed:
 *
 * - a block's digest is the merge of every digest of its sub-windows, in sub-window order (one
 *   digest: that digest as it is; none: empty);
 * - a window's digest is the merge of the digests of its {@link dyadicBlocks}, left to right.
 *
 * So a window's centroids pass through two compressions: its blocks' (at a finer δ) and its own.
 * A tree kept across slides (a rule view re-read at every boundary) builds each block once and
 * reuses it while the block stays in the window: each sub-window's digests are merged into one
 * block per level, ≈ log2(n) times in all, and a read merges at most 2·log2(n) + 2 blocks. A
 * fresh tree computed for one query builds only its window's blocks, which partition the window:
 * every digest merged once, then the blocks. Both give the same digest, so a view and a query
 * over the same sub-windows agree exactly. The digests must not change while the tree holds them
 * (closed sub-windows); a sub-window not added when a window over it is read is empty (adding it
 * later rebuilds the blocks over it).
 *
 * Pure and synchronous: no I/O, no timers.
 */
export class WindowDigestTree {
  private readonly merge: (digests: readonly DigestSource[]) => TDigest;
  private readonly mergeWindow: (digests: readonly DigestSource[]) => TDigest;
  /** Digests by sub-window index, and blocks built so far by {@link nodeKey} (null: empty). */
  private readonly leaves = new Map<number, readonly DigestSource[]>();
  private readonly blocks = new Map<number, DigestSource | null>();
  private last = -Infinity;
  /** Highest level of a block built so far. */
  private top = 0;

  /**
   * @param merge - merges a block's digests into its digest (`TDigest.merge`, at a finer δ than
   *   the window's: its centroids are compressed again in the window).
   * @param mergeWindow - merges a window's blocks into its digest (`TDigest.merge` at the δ asked).
   *   Every tree whose windows are compared must be built with the same two functions.
   */
  constructor(merge: (digests: readonly DigestSource[]) => TDigest, mergeWindow: (digests: readonly DigestSource[]) => TDigest) {
    this.merge = merge;
    this.mergeWindow = mergeWindow;
  }

  /** Index of the last sub-window added with a value (−Infinity: none). */
  get lastIndex(): number {
    return this.last;
  }

  /** Sub-windows and blocks held. */
  get size(): number {
    return this.leaves.size + this.blocks.size;
  }

  /**
   * Sets the digests of sub-window `index` (in the order a merge takes them; the tree keeps the
   * array); an empty list leaves it empty. Blocks built over it before are built again when next
   * read.
   */
  addLeaf(index: number, digests: readonly DigestSource[]): void {
    if (digests.length === 0) return;
    this.leaves.set(index, digests);
    if (index > this.last) this.last = index;
    for (let level = 0, size = 1; level <= this.top; level++, size *= 2) this.blocks.delete(nodeKey(level, Math.floor(index / size)));
  }

  /** The digest of the sub-windows `[from, to)`, or null when none of them holds a value. */
  window(from: number, to: number): TDigest | null {
    const nodes: DigestSource[] = [];
    for (const b of dyadicBlocks(from, to)) {
      const node = this.block(b.level, b.index);
      if (node !== null) nodes.push(node);
    }
    return nodes.length === 0 ? null : this.mergeWindow(nodes);
  }

  /** Forgets the sub-windows and blocks that start before sub-window `from` (no window read again reaches them). */
  dropBefore(from: number): void {
    for (const index of this.leaves.keys()) if (index < from) this.leaves.delete(index);
    for (const key of this.blocks.keys()) if (nodeStart(key) < from) this.blocks.delete(key);
  }

  private block(level: number, index: number): DigestSource | null {
    const key = nodeKey(level, index);
    const kept = this.blocks.get(key);
    if (kept !== undefined) return kept;
    const size = 2 ** level;
    const digests: DigestSource[] = [];
    for (let i = index * size; i < (index + 1) * size; i++) {
      const leaf = this.leaves.get(i);
      if (leaf !== undefined) for (const d of leaf) digests.push(d);
    }
    const built = digests.length === 0 ? null : digests.length === 1 ? digests[0] : this.merge(digests);
    this.blocks.set(key, built);
    if (level > this.top) this.top = level;
    return built;
  }
}
