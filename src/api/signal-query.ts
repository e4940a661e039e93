import type { UserAnomaly, UserAnomalyKind, UserProfile } from '../../operators/users/user-activity-tracker.js';

/** One signal as the query API lists it. */
export interface SignalDescription {
  name: string;
  kind: 'counter' | 'distribution' | 'users';
  family: string;
  unit?: string;
  description: string;
  dimensions: readonly string[];
  /** Sub-window of the signal: windows are multiples of it, ms. */
  subWindowMs: number;
  /** Longest window (plus baseline) the signal keeps, ms. */
  retentionMs: number;
  statHint: string;
}

/** A question about any signal: stats over a window, grouped and filtered, optionally against a baseline. */
export interface SignalQuery {
  signal: string;
  windowMs: number;
  groupBy: readonly string[];
  filter: Readonly<Record<string, string>>;
  stats: readonly string[];
  baseline?: { windowMs: number; compare: 'difference' | 'ratio' | 'relative' };
}

/** The engine's answer to a {@link SignalQuery}. */
export interface SignalAnswer {
  signal: string;
  unit?: string;
  window: { start: number; end: number; ms: number };
  baseline?: { start: number; end: number; ms: number; compare: string };
  groupBy: readonly string[];
  filter: Readonly<Record<string, string>>;
  groups: { key: string; labels: Readonly<Record<string, string>>; count: number; values: Record<string, number> }[];
}

/** What the signal routes need from the engine. */
export interface SignalBackend {
  signalList(): SignalDescription[];
  /** Throws `VIGIL_QUERY_INVALID` naming the parameter for a bad query. */
  signal(query: SignalQuery): SignalAnswer;
  anomalousUsers(kind: UserAnomalyKind, limit: number): UserAnomaly[];
  userProfile(userId: string): UserProfile | undefined;
}
