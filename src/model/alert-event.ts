import type { GroupLabels } from './dimensions.js';

/** Transition an alert event reports (`vigil.v1.AlertState`). */
export type AlertState = 'FIRING' | 'RESOLVED';

/** Severity of a rule (`vigil.v1.Severity`). */
export type Severity = 'INFO' | 'WARNING' | 'CRITICAL';

/** Comparison of a rule's statistic with its threshold. */
export type Comparator = '>' | '>=' | '<' | '<=';

/**
 * An alert state change as Vigil emits it: the TypeScript face of `schemas/alert-event.avsc`
 * (record `vigil.v1.AlertEvent`). Never carries prompt, output or user text.
 */
export interface AlertEvent {
  alertId: string;
  ruleName: string;
  state: AlertState;
  severity: Severity;
  signal: string;
  stat: string;
  groupKey: string;
  groupLabels: GroupLabels;
  comparator: Comparator;
  value: number;
  threshold: number;
  windowMs: number;
  windowStart: number;
  windowEnd: number;
  episodeStart: number;
  sampleCount: number;
  message: string;
}
