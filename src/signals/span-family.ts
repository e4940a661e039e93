import type { SignalFamily } from '../../operators/signal-family.js';
import type { InjectionCategory } from '../../operators/security/prompt-injection-scanner.js';
import type { PiiType } from '../../operators/security/pii-scanner.js';
import type { ErrorType, LlmSpan } from '../model/index.js';
import type { SpanEnrichment } from './span-enrichment.js';

/** The dimensions span signals are grouped by. */
export const SPAN_DIMENSIONS = ['service', 'operation', 'model', 'provider', 'tenant'] as const;

/** Error counters of the `errors` signal, in layout order. */
export const ERROR_COUNTERS = [
  'error',
  'timeout',
  'rate_limit',
  'model_error',
  'content_filter',
  'invalid_request',
  'network',
  'other_error',
  'retried',
  'retries',
  'fallback',
] as const;

/** Cost counters of the `cost` signal (sums per span). */
export const COST_COUNTERS = ['usd', 'input_tokens', 'output_tokens', 'cached_input_tokens', 'priced', 'unpriced'] as const;

/** Output counters of the `output` signal. */
export const OUTPUT_COUNTERS = [
  'responses',
  'json_expected',
  'json_valid',
  'finish_stop',
  'finish_length',
  'finish_content_filter',
  'finish_tool_calls',
  'finish_other',
] as const;

/** Injection categories in counter order (`injection_<category>`). */
export const INJECTION_CATEGORIES: readonly InjectionCategory[] = [
  'instruction_override',
  'roleplay_jailbreak',
  'system_prompt_extraction',
  'delimiter_abuse',
  'obfuscation',
];

/** PII types in counter order (`pii_<type>`). */
export const PII_TYPES: readonly PiiType[] = ['email', 'phone', 'credit_card', 'ssn', 'iban', 'ip_address', 'secret'];

/** Security counters of the `security` signal. */
export const SECURITY_COUNTERS = [
  'inputs_scanned',
  'injection',
  ...INJECTION_CATEGORIES.map((c) => `injection_${c}`),
  'injection_sophisticated',
  'outputs_scanned',
  'pii',
  'pii_findings',
  ...PII_TYPES.map((t) => `pii_${t}`),
];

const ERROR_OFFSET: Readonly<Record<ErrorType, number>> = {
  TIMEOUT: 1,
  RATE_LIMIT: 2,
  MODEL_ERROR: 3,
  CONTENT_FILTER: 4,
  INVALID_REQUEST: 5,
  NETWORK: 6,
  OTHER: 7,
};
const COST_BASE = ERROR_COUNTERS.length;
const OUTPUT_BASE = COST_BASE + COST_COUNTERS.length;
const SECURITY_BASE = OUTPUT_BASE + OUTPUT_COUNTERS.length;
const INJ_BASE = SECURITY_BASE + 2;
const INJ_SOPHISTICATED = INJ_BASE + INJECTION_CATEGORIES.length;
const OUTPUTS_SCANNED = INJ_SOPHISTICATED + 1;
const PII_SPANS = OUTPUTS_SCANNED + 1;
const PII_FINDINGS = PII_SPANS + 1;
const PII_BASE = PII_FINDINGS + 1;
const INJ_INDEX = new Map(INJECTION_CATEGORIES.map((c, i) => [c, INJ_BASE + i]));

/** Sophistication (1–5) from which an injection attempt counts as `injection_sophisticated`. */
export const SOPHISTICATED_FROM = 3;

function finishIndex(reason: string): number {
  switch (reason) {
    case 'stop':
    case 'end_turn':
    case 'STOP':
      return 3;
    case 'length':
    case 'max_tokens':
    case 'MAX_TOKENS':
      return 4;
    case 'content_filter':
    case 'SAFETY':
      return 5;
    case 'tool_calls':
    case 'tool_use':
    case 'function_call':
      return 6;
    default:
      return 7;
  }
}

/**
 * The span family: one aggregate per (service, operation, model, provider, tenant) per sub-window
 * feeds the `errors`, `cost`, `output` and `security` counter signals and the `latency`, `ttft`,
 * `output_length`, `output_tokens` and `span_cost` distributions. Reads the span's
 * {@link SpanEnrichment}, which the pipeline fills before counting each span.
 */
export function spanFamily(enrichment: SpanEnrichment): SignalFamily<LlmSpan> {
  return {
    name: 'spans',
    dimensions: SPAN_DIMENSIONS,
    dimension(span, index) {
      switch (index) {
        case 0:
          return span.service;
        case 1:
          return span.operation;
        case 2:
          return span.model;
        case 3:
          return span.provider;
        default:
          return span.tenantId;
      }
    },
    time: (span) => span.startTime,
    counterSignals: [
      {
        signal: 'errors',
        counters: ERROR_COUNTERS,
        description: 'span errors by type, retries and fallback activations (model-call level)',
      },
      {
        signal: 'cost',
        counters: COST_COUNTERS,
        unit: 'usd',
        description: 'span cost in USD (producer-reported or priced from the table) and tokens; unpriced = model missing from the price table',
      },
      {
        signal: 'output',
        counters: OUTPUT_COUNTERS,
        description: 'model responses: JSON format compliance and finish reasons',
      },
      {
        signal: 'security',
        counters: SECURITY_COUNTERS,
        description: 'prompt-injection attempts by category and PII in outputs by type',
      },
    ],
    // Every span counts, and only the injection categories (whole counts) may add to one counter twice.
    countsEveryEvent: true,
    count(span, c) {
      if (span.status === 'ERROR') {
        c[0] += 1;
        c[span.errorType === null ? 7 : ERROR_OFFSET[span.errorType]] += 1;
      }
      if (span.retryCount > 0) {
        c[8] += 1;
        c[9] += span.retryCount;
      }
      if (span.fallback) c[10] += 1;

      const e = enrichment;
      c[COST_BASE] += e.costUsd;
      c[COST_BASE + 1] += span.inputTokens ?? 0;
      c[COST_BASE + 2] += span.outputTokens ?? 0;
      c[COST_BASE + 3] += span.cachedInputTokens ?? 0;
      if (e.costSource === 'producer' || e.costSource === 'table') c[COST_BASE + 4] += 1;
      else if (e.costSource === 'unpriced') c[COST_BASE + 5] += 1;

      if (span.kind === 'LLM') {
        c[OUTPUT_BASE] += 1;
        if (e.jsonExpected) {
          c[OUTPUT_BASE + 1] += 1;
          if (e.jsonValid) c[OUTPUT_BASE + 2] += 1;
        }
        if (span.finishReason !== null) c[OUTPUT_BASE + finishIndex(span.finishReason)] += 1;
      }

      if (e.inputScanned) {
        c[SECURITY_BASE] += 1;
        const v = e.injection;
        if (v.attempt) {
          c[SECURITY_BASE + 1] += 1;
          for (let i = 0; i < v.categories.length; i++) c[INJ_INDEX.get(v.categories[i]) ?? INJ_BASE] += 1;
          if (v.sophistication >= SOPHISTICATED_FROM) c[INJ_SOPHISTICATED] += 1;
        }
      }
      if (e.outputLength >= 0) {
        c[OUTPUTS_SCANNED] += 1;
        const p = e.pii;
        if (p.total > 0) {
          c[PII_SPANS] += 1;
          c[PII_FINDINGS] += p.total;
          for (let i = 0; i < PII_TYPES.length; i++) c[PII_BASE + i] += p.counts[PII_TYPES[i]];
        }
      }
      return true;
    },
    distributions: [
      { signal: 'latency', unit: 'ms', description: 'span durationMs', value: (span) => span.durationMs },
      { signal: 'ttft', unit: 'ms', description: 'time to first token of streaming spans', value: (span) => span.ttftMs },
      {
        signal: 'output_length',
        unit: 'chars',
        description: 'length of outputText in characters (spans that carry it)',
        value: () => (enrichment.outputLength >= 0 ? enrichment.outputLength : null),
      },
      {
        signal: 'output_tokens',
        unit: 'tokens',
        description: 'outputTokens of LLM spans',
        value: (span) => (span.kind === 'LLM' ? span.outputTokens : null),
      },
    ],
  };
}
