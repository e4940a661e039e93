import type { SignalView } from '../model/index.js';
import type { RuleDefinition } from './rule-definition.js';

/** The fields of a {@link SignalView} its id is derived from. */
export type SignalViewSpec = Omit<SignalView, 'id'>;

/** The fields of a rule that decide its view. */
export type RuleViewFields = Pick<RuleDefinition, 'signal' | 'stat' | 'groupBy' | 'windowMs' | 'filter' | 'baseline'>;

/**
 * Stable id of a view, e.g. `signal=latency;groupBy=model;windowMs=300000;filter=service:chat-api;stats=p99`,
 * followed by `;baseline=86400000:difference` when the view compares with a baseline window.
 * `groupBy` keeps its given order (it orders the group key), `filter` is sorted by dimension, `stats`
 * keep their order; names and values are URI-encoded so separators inside them cannot make two views collide.
 */
export function viewIdOf(view: SignalViewSpec): string {
  const filter = Object.keys(view.filter)
    .filter((d) => view.filter[d] !== undefined)
    .sort()
    .map((d) => `${encodeURIComponent(d)}:${encodeURIComponent(view.filter[d])}`)
    .join(',');
  const parts = [
    `signal=${encodeURIComponent(view.signal)}`,
    `groupBy=${view.groupBy.map(encodeURIComponent).join(',')}`,
    `windowMs=${view.windowMs}`,
    `filter=${filter}`,
    `stats=${view.stats.map(encodeURIComponent).join(',')}`,
  ];
  if (view.baseline !== undefined) parts.push(`baseline=${view.baseline.windowMs}:${view.baseline.compare}`);
  return parts.join(';');
}

/** The view fields of a rule (everything but the id): its signal, groupBy, window, filter, baseline and single stat. */
export function viewSpecOf(rule: RuleViewFields): SignalViewSpec {
  return {
    signal: rule.signal,
    groupBy: [...rule.groupBy],
    windowMs: rule.windowMs,
    filter: copyFilter(rule.filter),
    stats: [rule.stat],
    ...(rule.baseline === undefined ? {} : { baseline: { windowMs: rule.baseline.windowMs, compare: rule.baseline.compare } }),
  };
}

/**
 * The view one rule reads: its signal, groupBy, window, filter and baseline, and its single stat.
 * Rules that differ only in threshold, comparator, timing or severity share a view.
 */
export function ruleViewOf(rule: RuleViewFields): SignalView {
  const spec = viewSpecOf(rule);
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

function copyFilter(filter: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of Object.keys(filter).sort()) {
    if (filter[d] !== undefined) out[d] = filter[d];
  }
  return out;
}
