import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TDigest, type DigestSource } from '../../operators/t-digest.js';
import { WindowDigestTree, dyadicBlocks } from '../../operators/window-digest-tree.js';
import { SeededRandom } from '../../src/demo/random.js';

const DELTA = 200;
const blockMerge = (ds: readonly DigestSource[]): TDigest => TDigest.merge(ds, 2 * DELTA);
const windowMerge = (ds: readonly DigestSource[]): TDigest => TDigest.merge(ds, DELTA);

/** Per sub-window index, the compacted digests of a few keys of lognormal values (some sub-windows empty), and every value. */
function subWindows(random: SeededRandom, first: number, count: number, perDigest: number): { leaves: Map<number, TDigest[]>; values: number[] } {
  const leaves = new Map<number, TDigest[]>();
  const values: number[] = [];
  for (let i = first; i < first + count; i++) {
    if (random.next() < 0.1) continue;
    const ds: TDigest[] = [];
    const keys = 1 + Math.floor(random.next() * 4);
    for (let k = 0; k < keys; k++) {
      const d = new TDigest(DELTA);
      for (let j = 0; j < perDigest; j++) {
        const x = random.lognormal(300, 0.8);
        d.add(x);
        values.push(x);
      }
      ds.push(d.compact());
    }
    leaves.set(i, ds);
  }
  return { leaves, values };
}

/** A tree built for one window only, as a query builds it. */
function freshWindow(leaves: Map<number, TDigest[]>, from: number, to: number): TDigest | null {
  const tree = new WindowDigestTree(blockMerge, windowMerge);
  for (let i = from; i < to; i++) tree.addLeaf(i, leaves.get(i) ?? []);
  return tree.window(from, to);
}

function sameDigest(actual: TDigest | null, expected: TDigest | null, message: string): void {
  if (expected === null || actual === null) {
    assert.equal(actual, expected, message);
    return;
  }
  assert.deepEqual(actual.toBytes(), expected.toBytes(), message);
  assert.equal(actual.sum, expected.sum, message);
}

describe('dyadicBlocks', () => {
  it('covers exactly the range with aligned blocks, at most 2·log2(n) + 2 of them, whatever the offset', () => {
    const random = new SeededRandom(3);
    // Sub-window indices of 100 ms sub-windows today are beyond 2^34.
    for (const base of [0, 7, 1_000_003, 17_640_000_123]) {
      for (let t = 0; t < 200; t++) {
        const from = base + Math.floor(random.next() * 5000);
        const n = 1 + Math.floor(random.next() * 400);
        const blocks = dyadicBlocks(from, from + n);
        let at = from;
        for (const b of blocks) {
          const size = 2 ** b.level;
          assert.equal(b.index * size, at, `block ${JSON.stringify(b)} starts where the previous ended`);
          assert.ok(Number.isInteger(b.index));
          at += size;
        }
        assert.equal(at, from + n, 'ends at the range end');
        assert.ok(blocks.length <= 2 * Math.log2(n) + 2, `${blocks.length} blocks for ${n} sub-windows`);
      }
    }
  });

  it('gives nothing for an empty range', () => {
    assert.deepEqual(dyadicBlocks(5, 5), []);
    assert.deepEqual(dyadicBlocks(9, 4), []);
  });
});

describe('WindowDigestTree', () => {
  it('a tree kept across slides and jumps gives each window bit for bit what a fresh tree gives', () => {
    const random = new SeededRandom(7);
    const first = 1_000_000;
    const { leaves } = subWindows(random, first, 400, 40);
    const width = 30;
    const kept = new WindowDigestTree(blockMerge, windowMerge);
    let added = first;
    let end = first + width;
    let reads = 0;
    while (end <= first + 400) {
      for (; added < end; added++) kept.addLeaf(added, leaves.get(added) ?? []);
      // The window and a baseline window just before it, from the same tree.
      kept.dropBefore(end - 2 * width);
      sameDigest(kept.window(end - width, end), freshWindow(leaves, end - width, end), `window ending at ${end}`);
      if (end - 2 * width >= first) {
        sameDigest(kept.window(end - 2 * width, end - width), freshWindow(leaves, end - 2 * width, end - width), `baseline ending at ${end - width}`);
      }
      reads++;
      end += random.next() < 0.8 ? 1 : 1 + Math.floor(random.next() * 40);
    }
    assert.ok(reads > 50, `${reads} windows read`);
  });

  it('a kept window merges O(log n) blocks per read and each sub-window into about log2(n) blocks, a fresh one each digest once', () => {
    const random = new SeededRandom(11);
    const first = 5000;
    const n = 90;
    const { leaves } = subWindows(random, first, 600, 20);
    const centroidsOf = (ds: readonly DigestSource[]): number => ds.reduce((a, d) => a + d.centroidCount, 0);
    let blockInput = 0;
    let windowBlocks = 0;
    const tree = new WindowDigestTree(
      (ds) => {
        blockInput += centroidsOf(ds);
        return blockMerge(ds);
      },
      (ds) => {
        windowBlocks = Math.max(windowBlocks, ds.length);
        return windowMerge(ds);
      },
    );
    for (let i = first; i < first + n; i++) tree.addLeaf(i, leaves.get(i) ?? []);
    tree.window(first, first + n);
    const windowCentroids = (from: number, to: number): number => {
      let c = 0;
      for (let i = from; i < to; i++) c += centroidsOf(leaves.get(i) ?? []);
      return c;
    };
    // A fresh tree merges each digest of the window once (single-digest blocks not at all).
    assert.ok(blockInput <= windowCentroids(first, first + n), `${blockInput} centroids merged into the first window's blocks`);
    blockInput = 0;
    let slides = 0;
    let flat = 0;
    for (let end = first + n + 1; end <= first + 600; end++, slides++) {
      tree.addLeaf(end - 1, leaves.get(end - 1) ?? []);
      tree.dropBefore(end - n);
      tree.window(end - n, end);
      flat += windowCentroids(end - n, end);
    }
    assert.ok(windowBlocks <= 2 * Math.log2(n) + 2, `at most ${windowBlocks} blocks merged per window of ${n}`);
    // Sliding, each sub-window's digests go into one block per level: ≈ log2(90) ≈ 6.5 of the
    // 90 sub-windows a flat merge of the window would take at every read.
    assert.ok(blockInput <= ((Math.log2(n) + 2) / n) * flat, `${blockInput} centroids merged into blocks over ${slides} slides, against ${flat} for flat merges`);
    assert.ok(tree.size <= 3 * n, `${tree.size} sub-windows and blocks held for a window of ${n}`);
  });

  it('answers null for a window with no values, and a window of a single digest with that digest compressed', () => {
    const tree = new WindowDigestTree(blockMerge, windowMerge);
    assert.equal(tree.window(10, 20), null);
    assert.ok(tree.size > 0, 'the empty blocks are kept');
    tree.addLeaf(12, []);
    assert.equal(tree.window(10, 20), null);
    assert.equal(tree.lastIndex, -Infinity);
    const d = new TDigest(DELTA);
    for (let i = 1; i <= 1000; i++) d.add(i);
    tree.addLeaf(13, [d]);
    assert.equal(tree.lastIndex, 13);
    sameDigest(tree.window(10, 20), windowMerge([d]), 'the one digest');
    assert.equal(tree.window(14, 20), null);
    tree.dropBefore(14);
    assert.equal(tree.window(10, 20), null, 'dropped leaves are gone');
  });

  for (const shape of [
    { subs: 5, perDigest: 1000 },
    { subs: 30, perDigest: 200 },
    { subs: 90, perDigest: 60 },
  ]) {
    it(`keeps the rank error of p50, p90, p99 and p99.9 within 0.005 / 0.005 / 0.001 / 0.0005 over ${shape.subs} sub-windows`, () => {
      // Bound stated for δ = 200 (blocks at 2δ) on lognormal data, 10 seeds per shape: the rank of
      // the estimate within ±0.005 of q for p50 and p90, ±0.001 for p99, ±0.0005 for p99.9. Measured
      // worst over the three shapes: 0.0020, 0.0013, 0.0003, 0.0001 (one flat merge of the same
      // digests at δ: 0.0025, 0.0013, 0.0003, 0.0001).
      const qs = [0.5, 0.9, 0.99, 0.999];
      const bounds = [0.005, 0.005, 0.001, 0.0005];
      for (let seed = 1; seed <= 10; seed++) {
        const random = new SeededRandom(100 + seed);
        const { leaves, values } = subWindows(random, 0, shape.subs, shape.perDigest);
        values.sort((a, b) => a - b);
        const d = freshWindow(leaves, 0, shape.subs);
        assert.ok(d !== null);
        assert.equal(d.count, values.length);
        qs.forEach((q, i) => {
          const estimate = d.quantile(q);
          let below = 0;
          while (below < values.length && values[below] < estimate) below++;
          let atMost = below;
          while (atMost < values.length && values[atMost] <= estimate) atMost++;
          const lo = below / values.length;
          const hi = atMost / values.length;
          assert.ok(lo - bounds[i] <= q && q <= hi + bounds[i], `seed ${seed}, q=${q}: estimate ${estimate} has rank [${lo}, ${hi}]`);
        });
      }
    });
  }
});
