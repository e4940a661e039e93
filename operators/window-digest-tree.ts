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
 * The digest of any window of consecutive sub-windows, defined as a fixed tree over aligned blocks
 * so that it costs O(log n) merges of compressed digests per window instead of a merge of every
 * centroid in it, and gives the same digest — bit for bit — however it is computed:
 *
 * - a sub-window's node (a leaf) is its digests merged (a single digest is taken as it is; none:
 *   empty);
 * - a block's node is its two halves' nodes merged (one of them empty: the other as it is);
 * - a window's digest is the merge of the nodes of its {@link dyadicBlocks}, left to right.
 *
 * A tree kept across slides (a rule view re-read at every boundary) builds each block once and
 * reuses it while the block stays in the window; a fresh tree computed for one query builds only
 * the blocks of that window. Both give the same digest, so a view and a query over the same
 * sub-windows agree exactly. The leaves must not change while the tree holds them (closed
 * sub-windows): a sub-window not added when a window over it is read is empty (adding it later
 * rebuilds the blocks over it).
 *
 * Accuracy: a window's centroids pass through at most log2(n) + 2 compressions at the digests' δ;
 * `test/operators/window-digest-tree.test.ts` states the rank error against exact values.
 *
 * Pure and synchronous: no I/O, no timers.
 */
export class WindowDigestTree {
  private readonly merge: (digests: readonly DigestSource[]) => TDigest;
  private readonly mergeWindow: (digests: readonly DigestSource[]) => TDigest;
  /** Leaves by sub-window index, and blocks built so far by {@link nodeKey} (null: empty). */
  private readonly leaves = new Map<number, DigestSource>();
  private readonly blocks = new Map<number, DigestSource | null>();
  private last = -Infinity;
  /** Highest level of a block built so far. */
  private top = 0;

  /**
   * @param merge - merges digests into a new one for a leaf or a block (`TDigest.merge`, at a
   *   finer δ than the window's: its centroids are compressed again on the way up).
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

  /** Leaves and blocks held (digests referenced or built). */
  get size(): number {
    return this.leaves.size + this.blocks.size;
  }

  /**
   * Sets the digests of sub-window `index` (in the order a merge takes them); an empty list leaves
   * it empty. Blocks built over it before are built again when next read.
   */
  addLeaf(index: number, digests: readonly DigestSource[]): void {
    if (digests.length === 0) return;
    this.leaves.set(index, digests.length === 1 ? digests[0] : this.merge(digests));
    if (index > this.last) this.last = index;
    for (let level = 1, size = 2; level <= this.top; level++, size *= 2) this.blocks.delete(nodeKey(level, Math.floor(index / size)));
  }

  /** The digest of the sub-windows `[from, to)`, or null when none of them holds a value. */
  window(from: number, to: number): TDigest | null {
    const nodes: DigestSource[] = [];
    for (const b of dyadicBlocks(from, to)) {
      const node = this.node(b.level, b.index);
      if (node !== null) nodes.push(node);
    }
    return nodes.length === 0 ? null : this.mergeWindow(nodes);
  }

  /** Forgets the leaves and blocks that start before sub-window `from` (no window read again reaches them). */
  dropBefore(from: number): void {
    for (const index of this.leaves.keys()) if (index < from) this.leaves.delete(index);
    for (const key of this.blocks.keys()) if (nodeStart(key) < from) this.blocks.delete(key);
  }

  private node(level: number, index: number): DigestSource | null {
    if (level === 0) return this.leaves.get(index) ?? null;
    const key = nodeKey(level, index);
    const kept = this.blocks.get(key);
    if (kept !== undefined) return kept;
    const left = this.node(level - 1, 2 * index);
    const right = this.node(level - 1, 2 * index + 1);
    const built = left === null ? right : right === null ? left : this.merge([left, right]);
    this.blocks.set(key, built);
    if (level > this.top) this.top = level;
    return built;
  }
}
