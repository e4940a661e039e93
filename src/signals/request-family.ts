import type { SignalFamily } from '../../operators/signal-family.js';
import type { AssembledRequest } from '../../operators/requests/request-assembler.js';

/** The dimensions request signals are grouped by. */
export const REQUEST_DIMENSIONS = ['service', 'operation', 'model', 'provider', 'tenant'] as const;

/** Counters of the `requests` signal. */
export const REQUEST_COUNTERS = [
  'failed',
  'degraded',
  'retried',
  'fallback',
  'timeout',
  'rate_limited',
  'incomplete',
  'injection',
  'pii',
  'cost_anomaly',
  'unpriced',
] as const;

/** Per-request verdicts the pipeline adds before counting a request. */
export interface RequestVerdicts {
  /** The request's cost was far above the recent distribution for its service/operation. */
  costAnomaly: boolean;
  /**
   * Event time the request is counted at: when it became complete (the slide boundary that closed
   * over its root's end), so a complete request always lands in a sub-window still open.
   */
  time: number;
}

/**
 * End-user requests assembled from their spans by `traceId`: the pipeline-level `requests` counters
 * (failed, degraded = succeeded only through retries or a fallback, …) and the `request_cost`
 * (USD, supporting calls included), `request_latency` and `request_tokens` distributions.
 */
export function requestFamily(verdicts: RequestVerdicts): SignalFamily<AssembledRequest> {
  return {
    name: 'requests',
    dimensions: REQUEST_DIMENSIONS,
    dimension(r, index) {
      switch (index) {
        case 0:
          return r.service;
        case 1:
          return r.operation;
        case 2:
          return r.model;
        case 3:
          return r.provider;
        default:
          return r.tenantId;
      }
    },
    time: () => verdicts.time,
    counterSignals: [
      {
        signal: 'requests',
        counters: REQUEST_COUNTERS,
        description:
          'pipeline-level request outcomes: failed (root failed), degraded (succeeded only through retries or a fallback), timeouts and rate limits anywhere in the request, incomplete (root never arrived), security flags, cost anomalies',
      },
    ],
    // Every request counts, each counter at most once.
    countsEveryEvent: true,
    count(r, c) {
      if (r.failed) c[0] += 1;
      if (r.degraded) c[1] += 1;
      if (r.retries > 0) c[2] += 1;
      if (r.fallback) c[3] += 1;
      if (r.timeouts > 0) c[4] += 1;
      if (r.rateLimits > 0) c[5] += 1;
      if (r.rootMissing || r.evicted) c[6] += 1;
      if (r.injection) c[7] += 1;
      if (r.piiFindings > 0) c[8] += 1;
      if (verdicts.costAnomaly) c[9] += 1;
      if (r.unpricedSpans > 0) c[10] += 1;
      return true;
    },
    distributions: [
      { signal: 'request_cost', unit: 'usd', description: 'cost of a whole request, supporting calls included', value: (r) => r.costUsd },
      { signal: 'request_latency', unit: 'ms', description: 'end-to-end request latency', value: (r) => r.durationMs },
      { signal: 'request_tokens', unit: 'tokens', description: 'input + output tokens of a whole request', value: (r) => r.inputTokens + r.outputTokens },
    ],
  };
}
