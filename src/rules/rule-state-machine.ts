import type { AlertEvent, AlertState, Comparator, GroupLabels, SignalSnapshot, SnapshotGroup } from '../model/index.js';
import { alertIdOf } from './alert-id.js';
import { firingMessage, resolvedMessage } from './alert-message.js';
import type { RuleDefinition } from './rule-definition.js';

/**
 * What the machine remembers of one group that is not INACTIVE. INACTIVE groups are not stored, so
 * memory is bounded by the groups currently pending or firing.
 */
export type RuleGroupState =
  | {
      phase: 'PENDING';
      key: string;
      labels: GroupLabels;
      /** `windowEnd` of the first evaluation at which the condition held. */
      episodeStart: number;
    }
  | {
      phase: 'FIRING';
      key: string;
      labels: GroupLabels;
      episodeStart: number;
      /** `windowEnd` of the first evaluation of the current run of clear evaluations; null when not clearing. */
      clearSince: number | null;
      /** The FIRING event that was emitted, as {@link RuleStateMachine.activeAlerts} returns it. */
      firing: AlertEvent;
    };

/** Plain-data export of a {@link RuleStateMachine}, JSON-safe, for crash recovery. */
export interface RuleState {
  ruleName: string;
  /** `windowEnd` of the last snapshot evaluated; snapshots at or before it are ignored. */
  lastWindowEnd: number | null;
  groups: RuleGroupState[];
}

/**
 * The alerting state machine of one rule, per group key. Pure and synchronous: feed it the
 * snapshots of the rule's view in event-time order and it returns the alert transitions.
 *
 * Per group: INACTIVE → PENDING when the condition first holds (episodeStart = that `windowEnd`);
 * PENDING → FIRING (emits FIRING) at the first evaluation with `windowEnd − episodeStart ≥ forMs`,
 * so `forMs = 0` fires at once; PENDING → INACTIVE (no alert) as soon as the condition fails.
 * FIRING → INACTIVE (emits RESOLVED, same alertId and episodeStart) once the clear condition has held
 * at every evaluation from some `clearSince` with `windowEnd − clearSince ≥ resolveForMs`. While
 * FIRING, any evaluation that is not clear (the condition holds, the value is inside the hysteresis
 * band, or the group has enough events but no finite value) keeps it FIRING and restarts the clear run.
 *
 * The condition holds when the group has `count ≥ minCount` and a finite value with
 * `value <comparator> threshold`. The clear condition holds when the group is absent (count 0) or
 * has `count < minCount`, or its value is past the threshold by the hysteresis margin
 * `m = hysteresis·|threshold|`: for `>` value ≤ threshold − m, for `>=` value < threshold − m,
 * for `<` value ≥ threshold + m, for `<=` value > threshold + m (with hysteresis 0, exactly "does not hold").
 */
export class RuleStateMachine {
  /** The rule this machine evaluates. */
  readonly rule: RuleDefinition;
  private readonly groups = new Map<string, RuleGroupState>();
  private lastWindowEnd: number | null = null;

  constructor(rule: RuleDefinition) {
    this.rule = rule;
  }

  /**
   * Evaluates one snapshot and returns the FIRING and RESOLVED events it causes, groups in snapshot
   * order then previously tracked groups that are absent from it. Snapshots of another view, and
   * snapshots not later than the last one evaluated (replays), are ignored and yield nothing.
   *
   * Event `value`: the group's statistic in this window; for RESOLVED, the value at resolution, or 0
   * when the group had no events (or no value) in the window. `sampleCount` is the group's count (0 when absent).
   */
  evaluate(snapshot: SignalSnapshot): AlertEvent[] {
    if (snapshot.viewId !== this.rule.viewId) return [];
    if (this.lastWindowEnd !== null && snapshot.windowEnd <= this.lastWindowEnd) return [];
    this.lastWindowEnd = snapshot.windowEnd;
    const out: AlertEvent[] = [];
    const seen = new Set<string>();
    for (const group of snapshot.groups) {
      if (seen.has(group.key)) continue;
      seen.add(group.key);
      this.step(group.key, group.labels, group.count, this.valueOf(group), snapshot, out);
    }
    for (const [key, state] of this.groups) {
      if (!seen.has(key)) this.step(key, state.labels, 0, undefined, snapshot, out);
    }
    return out;
  }

  /** The FIRING events of the groups currently firing (copies), in the order they started tracking. */
  activeAlerts(): AlertEvent[] {
    const out: AlertEvent[] = [];
    for (const state of this.groups.values()) {
      if (state.phase === 'FIRING') out.push(copyEvent(state.firing));
    }
    return out;
  }

  /** A JSON-safe copy of the per-group state. */
  getState(): RuleState {
    return { ruleName: this.rule.name, lastWindowEnd: this.lastWindowEnd, groups: structuredClone([...this.groups.values()]) };
  }

  /**
   * Replaces the per-group state with one from {@link getState} (possibly of an earlier process, via
   * JSON). Not validated beyond its type: pass only what `getState` produced. Groups a changed rule no
   * longer produces resolve at the next snapshot, as absent groups do.
   */
  restoreState(state: RuleState): void {
    this.groups.clear();
    for (const group of structuredClone(state.groups)) this.groups.set(group.key, group);
    this.lastWindowEnd = state.lastWindowEnd;
  }

  private step(key: string, labels: GroupLabels, count: number, value: number | undefined, snapshot: SignalSnapshot, out: AlertEvent[]): void {
    const { rule } = this;
    const state = this.groups.get(key);
    if (state === undefined || state.phase === 'PENDING') {
      const holds = count >= rule.minCount && value !== undefined && compare(value, rule.comparator, rule.threshold);
      if (!holds) {
        this.groups.delete(key);
        return;
      }
      const episodeStart = state?.episodeStart ?? snapshot.windowEnd;
      if (snapshot.windowEnd - episodeStart < rule.forMs) {
        this.groups.set(key, { phase: 'PENDING', key, labels, episodeStart });
        return;
      }
      const firing = this.event('FIRING', key, labels, episodeStart, snapshot, value, count, firingMessage(rule, labels, value));
      this.groups.set(key, { phase: 'FIRING', key, labels, episodeStart, clearSince: null, firing });
      out.push(copyEvent(firing));
      return;
    }
    if (!(count < rule.minCount || (value !== undefined && this.isClear(value)))) {
      state.clearSince = null;
      return;
    }
    state.clearSince ??= snapshot.windowEnd;
    if (snapshot.windowEnd - state.clearSince < rule.resolveForMs) return;
    const resolvedValue = count > 0 && value !== undefined ? value : 0;
    out.push(
      this.event('RESOLVED', key, state.labels, state.episodeStart, snapshot, resolvedValue, count, resolvedMessage(rule, state.labels, resolvedValue, count)),
    );
    this.groups.delete(key);
  }

  private isClear(value: number): boolean {
    const { comparator, threshold, hysteresis } = this.rule;
    const margin = hysteresis * Math.abs(threshold);
    switch (comparator) {
      case '>':
        return value <= threshold - margin;
      case '>=':
        return value < threshold - margin;
      case '<':
        return value >= threshold + margin;
      case '<=':
        return value > threshold + margin;
    }
  }

  /**
   * The rule's statistic for a group; without a baseline, `count` falls back to the group's event
   * count (with one, the value is a comparison the snapshot must carry). Non-finite reads as missing.
   */
  private valueOf(group: SnapshotGroup): number | undefined {
    const { stat, baseline } = this.rule;
    const raw = group.values[stat] ?? (stat === 'count' && baseline === undefined ? group.count : undefined);
    return typeof raw === 'number' && Number.isFinite(raw) ? raw : undefined;
  }

  private event(
    state: AlertState,
    key: string,
    labels: GroupLabels,
    episodeStart: number,
    snapshot: SignalSnapshot,
    value: number,
    count: number,
    message: string,
  ): AlertEvent {
    const { rule } = this;
    return {
      alertId: alertIdOf(rule.name, key, episodeStart),
      ruleName: rule.name,
      state,
      severity: rule.severity,
      signal: rule.signal,
      stat: rule.stat,
      groupKey: key,
      groupLabels: { ...labels },
      comparator: rule.comparator,
      value,
      threshold: rule.threshold,
      windowMs: snapshot.windowMs,
      windowStart: snapshot.windowStart,
      windowEnd: snapshot.windowEnd,
      episodeStart,
      sampleCount: count,
      message,
    };
  }
}

function compare(value: number, comparator: Comparator, threshold: number): boolean {
  switch (comparator) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

function copyEvent(event: AlertEvent): AlertEvent {
  return { ...event, groupLabels: { ...event.groupLabels } };
}
