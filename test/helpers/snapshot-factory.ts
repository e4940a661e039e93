import { NONE_VALUE, groupKeyOf, type GroupLabels, type SignalSnapshot, type SignalView, type SnapshotGroup } from '../../src/model/index.js';

/** Slide of the snapshots tests build by default: 10 s. */
export const SLIDE_MS = 10_000;

/** A slide boundary to start test timelines at: 2025-01-01T00:00:00Z, a multiple of every slide used. */
export const T0 = Date.UTC(2025, 0, 1);

/** One group of a test snapshot: its labels, event count, and statistic values. */
export interface GroupSpec {
  labels?: GroupLabels;
  count: number;
  /** Stored under every stat of the view (most views have one); `values` entries win. */
  value?: number;
  values?: Record<string, number>;
}

/** The view fields a snapshot copies. */
export type SnapshotViewPart = Pick<SignalView, 'id' | 'signal' | 'groupBy' | 'windowMs' | 'stats'>;

/** A {@link SnapshotGroup} of `view` whose key is computed from the labels as the operators do. */
export function makeGroup(view: SnapshotViewPart, spec: GroupSpec): SnapshotGroup {
  const labels: GroupLabels = {};
  for (const d of view.groupBy) labels[d] = spec.labels?.[d] ?? NONE_VALUE;
  const values: Record<string, number> = {};
  if (spec.value !== undefined) for (const stat of view.stats) values[stat] = spec.value;
  Object.assign(values, spec.values);
  return { key: groupKeyOf(labels, view.groupBy), labels, count: spec.count, values };
}

/** The snapshot of `view` at the slide boundary `windowEnd`, holding `groups` (absent groups had no events). */
export function makeSnapshot(view: SnapshotViewPart, windowEnd: number, groups: readonly GroupSpec[] = []): SignalSnapshot {
  return {
    viewId: view.id,
    signal: view.signal,
    windowStart: windowEnd - view.windowMs,
    windowEnd,
    windowMs: view.windowMs,
    groupBy: [...view.groupBy],
    groups: groups.map((g) => makeGroup(view, g)),
  };
}

/** The `i`-th slide boundary after {@link T0}. */
export function boundary(i: number, slideMs: number = SLIDE_MS): number {
  return T0 + i * slideMs;
}
