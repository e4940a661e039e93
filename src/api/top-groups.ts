/** The label value of the group that folds every group beyond a metric's cap. */
export const OTHER_LABEL = 'other';

/** How a value of the groups beyond the cap is folded into the `other` group. */
export type Fold = 'sum' | 'max';

/** One labelled group of a metric, with the event count it is ranked by. */
export interface MetricGroup {
  labels: Readonly<Record<string, string>>;
  count: number;
  values: Readonly<Record<string, number>>;
}

/**
 * Bounds a metric's label cardinality: the `max` groups with the most events are kept (ties by
 * labels, so the choice is stable) and the rest become one group whose every label is
 * {@link OTHER_LABEL}, with their counts summed and each value folded by `foldOf(name)` — `sum` for
 * additive values (counts, USD), `max` for those that do not add (a percentile: the worst of the
 * rest). Non-finite values are left out of a fold; a fold of none is NaN.
 */
export function topGroups(groups: readonly MetricGroup[], max: number, foldOf: (value: string) => Fold = () => 'sum'): MetricGroup[] {
  if (groups.length <= max) return [...groups];
  const ranked = [...groups].sort((a, b) => b.count - a.count || compareLabels(a.labels, b.labels));
  const kept = ranked.slice(0, max);
  const rest = ranked.slice(max);
  const labels: Record<string, string> = {};
  for (const name of Object.keys(rest[0].labels)) labels[name] = OTHER_LABEL;
  const values: Record<string, number> = {};
  let count = 0;
  for (const g of rest) {
    count += g.count;
    for (const [name, v] of Object.entries(g.values)) {
      if (!Number.isFinite(v)) continue;
      const before = values[name];
      values[name] = before === undefined ? v : foldOf(name) === 'max' ? Math.max(before, v) : before + v;
    }
  }
  for (const name of Object.keys(rest[0].values)) values[name] ??= NaN;
  kept.push({ labels, count, values });
  return kept;
}

function compareLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): number {
  const ka = JSON.stringify(a);
  const kb = JSON.stringify(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
