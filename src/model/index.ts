export type { LlmSpan, SpanKind, SpanStatus, ErrorType } from './llm-span.js';
export type { AlertEvent, AlertState, Severity, Comparator } from './alert-event.js';
export type { SignalSnapshot, SnapshotGroup, SignalView, BaselineSpec } from './signal-snapshot.js';
export type { Dimension, GroupLabels } from './dimensions.js';
export { DIMENSIONS, NONE_VALUE, isDimension, dimensionValue, groupKeyOf } from './dimensions.js';
export type { FeedbackEvent, FeedbackType } from './feedback-event.js';
export type { EvalScoreEvent } from './eval-score-event.js';
