import { USER_ANOMALY_KINDS, type UserAnomaly, type UserAnomalyKind, type UserProfile } from '../../operators/users/user-activity-tracker.js';

/** Most anomalous users of each kind one task reports per boundary (the `users` signal lists at most 1000). */
export const MAX_REPORTED_USERS = 1000;

/**
 * What the rest of the engine reads from per-user state: the anomalous users, their counts, one
 * user's profile. The per-user tracker answers it for the users it holds; a group-wide view merges
 * the reports of every partition's tracker.
 */
export interface UserSignals {
  /** The currently anomalous users of `kind`, most severe first, at most `limit`. */
  anomalous(kind: UserAnomalyKind, limit: number): UserAnomaly[];
  /** How many users are currently anomalous, per kind. */
  anomalousCounts(): Record<UserAnomalyKind, number>;
  /** One user's state, when it is held here. */
  profile(userId: string): UserProfile | undefined;
  /** Users tracked. */
  readonly size: number;
  /** Estimated bytes retained. */
  memoryBytes(): number;
}

/** One partition task's per-user state as of a boundary: what the group-wide view needs of it. */
export interface UserReport {
  /** Users its tracker holds. */
  tracked: number;
  /** Anomalous users per kind (all of them, not only those listed). */
  counts: Record<UserAnomalyKind, number>;
  /** The most severe anomalous users of each kind, at most {@link MAX_REPORTED_USERS} per kind. */
  anomalous: UserAnomaly[];
}

/** An empty report: no users, nothing anomalous. */
export function emptyUserReport(): UserReport {
  return { tracked: 0, counts: { rate_spike: 0, token_spike: 0, cost_spike: 0, probing: 0, session_spread: 0 }, anomalous: [] };
}

/** The report of a tracker as it stands. */
export function userReportOf(users: UserSignals): UserReport {
  const anomalous: UserAnomaly[] = [];
  for (const kind of USER_ANOMALY_KINDS) for (const a of users.anomalous(kind, MAX_REPORTED_USERS)) anomalous.push(a);
  return { tracked: users.size, counts: users.anomalousCounts(), anomalous };
}

// Most severe first, as the tracker orders them: by how far past the threshold, then by user id.
function severity(a: UserAnomaly): number {
  return a.threshold > 0 ? a.value / a.threshold : a.value;
}

/**
 * The group-wide per-user view: the latest {@link UserReport} of every partition task, merged.
 * A user's requests all reach one partition (the keying requirement), so the reports never overlap.
 * Profiles stay with the instance owning the user's partition: {@link profile} asks its own tasks.
 */
export class MergedUserReports implements UserSignals {
  // The current report of each task, as of the group's last boundary.
  private readonly reports = new Map<number, UserReport>();
  // Reports of boundaries the group has not reached yet, per task, oldest first: a task can run ahead.
  private readonly ahead = new Map<number, { boundary: number; report: UserReport }[]>();
  private at = -Infinity;
  private local: (userId: string) => UserProfile | undefined = () => undefined;

  /** Where {@link profile} looks: the trackers of the partition tasks this instance owns. */
  setLocalProfiles(lookup: (userId: string) => UserProfile | undefined): void {
    this.local = lookup;
  }

  /**
   * The report of `task` as of `boundary`: current once the group has reached that boundary
   * ({@link advanceTo}), so every group boundary sees each task as it was there.
   */
  set(task: number, report: UserReport, boundary = -Infinity): void {
    if (boundary <= this.at) {
      this.reports.set(task, report);
      return;
    }
    let queue = this.ahead.get(task);
    if (queue === undefined) this.ahead.set(task, (queue = []));
    queue.push({ boundary, report });
  }

  /** The group has reached `boundary`: each task's latest report at or before it becomes current. */
  advanceTo(boundary: number): void {
    if (boundary <= this.at) return;
    this.at = boundary;
    for (const [task, queue] of this.ahead) {
      let k = 0;
      while (k < queue.length && queue[k].boundary <= boundary) k++;
      if (k === 0) continue;
      this.reports.set(task, queue[k - 1].report);
      queue.splice(0, k);
    }
  }

  anomalous(kind: UserAnomalyKind, limit: number): UserAnomaly[] {
    const out: UserAnomaly[] = [];
    for (const r of this.reports.values()) for (const a of r.anomalous) if (a.kind === kind) out.push({ ...a });
    out.sort((a, b) => severity(b) - severity(a) || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
    return limit === Infinity ? out : out.slice(0, Math.max(0, Math.floor(limit)));
  }

  anomalousCounts(): Record<UserAnomalyKind, number> {
    const total = emptyUserReport().counts;
    for (const r of this.reports.values()) for (const kind of USER_ANOMALY_KINDS) total[kind] += r.counts[kind];
    return total;
  }

  profile(userId: string): UserProfile | undefined {
    return this.local(userId);
  }

  get size(): number {
    let n = 0;
    for (const r of this.reports.values()) n += r.tracked;
    return n;
  }

  memoryBytes(): number {
    let n = 0;
    for (const r of this.reports.values()) n += 64 + r.anomalous.length * 96;
    return n;
  }
}
