export type { LlmSpan, SpanKind, SpanStatus, ErrorType } from './llm-span.js';
export type { AlertEvent, AlertState, Severity, Comparator } from './alert-event.js';
export type { SignalSnapshot, SnapshotGroup, SignalView } from './signal-snapshot.js';
export type { Dimension, GroupLabels } from './dimensions.js';
export { DIMENSIONS, NONE_VALUE, isDimension, dimensionValue, groupKeyOf } from './dimensions.js';
