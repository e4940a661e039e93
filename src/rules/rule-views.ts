import type { Dimension, GroupLabels, SignalView } from '../model/index.js';
import type { RuleDefinition } from './rule-definition.js';

/** The fields of a {@link SignalView} its id is derived from. */
export type SignalViewSpec = Omit<SignalView, 'id'>;

/**
 * Stable id of a view, e.g. `signal=latency;groupBy=model;windowMs=300000;filter=service:chat-api;stats=p99`.
 * `groupBy` keeps its given order (it orders the group key), `filter` is sorted by dimension, `stats`
 * keep their order; values are URI-encoded so separators inside them cannot make two views collide.
 */
export function viewIdOf(view: SignalViewSpec): string {
  const filter = (Object.keys(view.filter) as Dimension[])
    .filter((d) => view.filter[d] !== undefined)
    .sort()
    .map((d) => `${d}:${encodeURIComponent(view.filter[d] ?? '')}`)
    .join(',');
  return [
    `signal=${encodeURIComponent(view.signal)}`,
    `groupBy=${view.groupBy.join(',')}`,
    `windowMs=${view.windowMs}`,
    `filter=${filter}`,
    `stats=${view.stats.map(encodeURIComponent).join(',')}`,
  ].join(';');
}

/**
 * The view one rule reads: its signal, groupBy, window and filter, and its single stat. Rules that
 * differ only in threshold, comparator, timing or severity share a view.
 */
export function ruleViewOf(rule: RuleDefinition): SignalView {
  const spec: SignalViewSpec = {
    signal: rule.signal,
    groupBy: [...rule.groupBy],
    windowMs: rule.windowMs,
    filter: copyFilter(rule.filter),
    stats: [rule.stat],
  };
  return { id: viewIdOf(spec), ...spec };
}

/** The distinct views `rules` need, in order of first use; each rule's `viewId` is one of their ids. */
export function ruleViews(rules: readonly RuleDefinition[]): SignalView[] {
  const views = new Map<string, SignalView>();
  for (const rule of rules) {
    const view = ruleViewOf(rule);
    if (!views.has(view.id)) views.set(view.id, view);
  }
  return [...views.values()];
}

function copyFilter(filter: GroupLabels): GroupLabels {
  const out: GroupLabels = {};
  for (const d of Object.keys(filter).sort() as Dimension[]) {
    if (filter[d] !== undefined) out[d] = filter[d];
  }
  return out;
}
