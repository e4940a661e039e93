import type { UserAnomalyKind } from '../../operators/users/user-activity-tracker.js';
import type { UserSignals } from './user-report.js';
import { VigilError } from '../errors.js';
import type { SignalSnapshot, SignalView, SnapshotGroup } from '../model/index.js';

/** The anomaly kinds the `users` signal reports, as stats. */
export const USER_STATS: readonly UserAnomalyKind[] = ['rate_spike', 'token_spike', 'cost_spike', 'probing', 'session_spread'];

/** Most users one `users` snapshot lists when grouped by user. */
export const MAX_USERS_PER_SNAPSHOT = 1000;

/** True when `stat` is one of {@link USER_STATS}. */
export function isUserStat(stat: string): stat is UserAnomalyKind {
  return (USER_STATS as readonly string[]).includes(stat);
}

/**
 * The `users` signal: unusual access patterns from the per-user tracker. Grouped by `user`, each
 * currently anomalous user is a group whose stat is the anomalous value (requests, tokens or USD per
 * bucket, probing attempts, sessions); users not anomalous are absent, so a rule over them resolves.
 * Ungrouped, the stat is the number of users currently anomalous of that kind.
 */
export function userSnapshot(tracker: Pick<UserSignals, 'anomalous' | 'anomalousCounts'>, view: SignalView, end: number): SignalSnapshot {
  const groups: SnapshotGroup[] = [];
  const byUser = view.groupBy.length === 1 && (view.groupBy[0]) === 'user';
  if (!byUser && view.groupBy.length > 0) {
    throw new VigilError('VIGIL_QUERY_INVALID', 'groupBy: the users signal groups by user or not at all', { details: { param: 'groupBy' } });
  }
  if (byUser) {
    const seen = new Map<string, SnapshotGroup>();
    for (const stat of view.stats) {
      if (!isUserStat(stat)) continue;
      for (const a of tracker.anomalous(stat, MAX_USERS_PER_SNAPSHOT)) {
        let g = seen.get(a.userId);
        if (!g) {
          g = { key: 'user=' + encodeURIComponent(a.userId), labels: { user: a.userId }, count: 1, values: {} };
          seen.set(a.userId, g);
          groups.push(g);
        }
        g.values[stat] = a.value;
      }
    }
    groups.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  } else {
    const counts = tracker.anomalousCounts();
    const values: Record<string, number> = {};
    let total = 0;
    for (const stat of view.stats) {
      if (isUserStat(stat)) {
        values[stat] = counts[stat];
        total += counts[stat];
      }
    }
    groups.push({ key: '*', labels: {}, count: total, values });
  }
  return { viewId: view.id, signal: view.signal, windowStart: end - view.windowMs, windowEnd: end, windowMs: view.windowMs, groupBy: view.groupBy, groups };
}
