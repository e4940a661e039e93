/**
 * Vigil's stream operators: the pure window algorithms, the RxJS operator over them, and the
 * cost, request, security and user modules the signal pipeline is built from.
 *
 * @packageDocumentation
 */

// Distributions and event time.
export { TDigest, DEFAULT_COMPRESSION } from './t-digest.js';
export { EventTimeWatermark, MAX_WATERMARK_CHANNEL } from './event-time-watermark.js';
export type { EventTimeWatermarkOptions, WatermarkChannelState } from './event-time-watermark.js';

// Sliding windows over signal families.
export { SubWindowRing, OVERFLOW_KEY } from './sub-window-ring.js';
export type { SubWindowRingOptions } from './sub-window-ring.js';
export { FamilyWindowStore } from './family-window-store.js';
export type {
  FamilyWindowStoreOptions,
  FamilySignalInfo,
  FamilyQueryOptions,
  FamilyQueryGroup,
  FamilyQueryResult,
  FamilyStoreStats,
} from './family-window-store.js';
export type { CounterSignal, DistributionSignal, SignalFamily } from './signal-family.js';
export { parseStat, parseCounterStat, parseDistributionStat, describeStats } from './signal-stats.js';
export type { ParsedStat, CounterStat, DistributionStat } from './signal-stats.js';
export {
  populationStabilityIndex,
  ksStatistic,
  PSI_EPSILON,
  PSI_MINOR_SHIFT,
  PSI_SIGNIFICANT_SHIFT,
} from './population-stability.js';

// The RxJS operator.
export { slidingSignals } from './sliding-signals.js';
export type { WindowedPipeline, SlidingSignalsOptions } from './sliding-signals.js';

// Cost.
export { PriceTable, loadPriceTable } from './cost/price-table.js';
export { CostAnomalyDetector } from './cost/cost-anomaly-detector.js';

// Requests.
export { RequestAssembler } from './requests/request-assembler.js';
export type { AssembledRequest } from './requests/request-assembler.js';

// Security.
export { PromptInjectionScanner, NO_INJECTION } from './security/prompt-injection-scanner.js';
export type {
  InjectionCategory,
  InjectionFinding,
  InjectionVerdict,
  PromptInjectionScannerOptions,
} from './security/prompt-injection-scanner.js';
export { PiiScanner, NO_PII } from './security/pii-scanner.js';
export type { PiiType, PiiFinding, PiiScanResult } from './security/pii-scanner.js';

// Users.
export { UserActivityTracker } from './users/user-activity-tracker.js';
export type {
  UserRequestObservation,
  UserAnomalyKind,
  UserAnomaly,
  UserProfile,
  UserTrackerAdvance,
  UserTrackerOptions,
  UserTrackerInit,
} from './users/user-activity-tracker.js';
