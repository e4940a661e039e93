import type { GroupLabels } from './dimensions.js';

/**
 * What a signal operator computes for one view at one slide boundary: for each group with events
 * in the window, its count and the requested statistics. Rules evaluate these; a group absent from
 * `groups` had no events in the window.
 */
export interface SignalSnapshot {
  /** Id of the view that produced it (see {@link SignalView.id}). */
  viewId: string;
  /** Signal family, e.g. `latency` or `ttft`. */
  signal: string;
  windowStart: number;
  /** Exclusive end of the window: the slide boundary the watermark has passed. */
  windowEnd: number;
  windowMs: number;
  groupBy: readonly string[];
  groups: SnapshotGroup[];
}

/** One group's figures in a {@link SignalSnapshot}. */
export interface SnapshotGroup {
  key: string;
  labels: GroupLabels;
  count: number;
  /** Statistic name (e.g. `p99`, `count`, `mean`) to value. */
  values: Record<string, number>;
}

/**
 * A standing request to a signal operator: compute these statistics of `signal` grouped by
 * `groupBy` over `windowMs`, restricted to spans matching `filter`, at every slide boundary.
 */
export interface SignalView {
  /** Stable id derived from the other fields; equal views share it. */
  id: string;
  signal: string;
  groupBy: readonly string[];
  windowMs: number;
  filter: GroupLabels;
  stats: readonly string[];
  /**
   * Compare each stat with its value over the baseline window that ends where this view's window
   * starts: `difference` (current − baseline), `ratio` (current / baseline) or `relative`
   * ((current − baseline) / baseline). The `psi` stat of a distribution needs a baseline.
   */
  baseline?: BaselineSpec;
}

/** How a view compares its window with the window before it. */
export interface BaselineSpec {
  windowMs: number;
  compare: 'difference' | 'ratio' | 'relative';
}
