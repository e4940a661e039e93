/**
 * Vigil's stream operators: the pure window algorithms and the thin RxJS operators over them.
 *
 * @packageDocumentation
 */
export { TDigest } from './t-digest.js';
export { EventTimeWatermark } from './event-time-watermark.js';
export type { EventTimeWatermarkOptions } from './event-time-watermark.js';
export { SubWindowRing, OVERFLOW_KEY } from './sub-window-ring.js';
export type { SubWindowRingOptions } from './sub-window-ring.js';
export { PercentileWindowStore, parseStat, PERCENTILE_SIGNALS } from './percentile-window-store.js';
export type {
  PercentileSignal,
  ParsedStat,
  PercentileWindowStoreOptions,
  PercentileQueryOptions,
  PercentileQueryGroup,
  PercentileQueryResult,
  PercentileStoreStats,
} from './percentile-window-store.js';
export { slidingPercentiles } from './sliding-percentiles.js';
export type { SlidingPercentilesOptions } from './sliding-percentiles.js';
