/**
 * Mapping one OpenTelemetry span that follows the GenAI semantic conventions onto Vigil's
 * `LlmSpan` contract.
 */
import { AVRO_INT_MAX, validateSpan } from '../codec/index.js';
import { describe, fail } from '../codec/field-checks.js';
import type { ErrorType, LlmSpan, SpanKind } from '../model/index.js';
import { classifyErrorType } from './error-type.js';
import { messagesText } from './message-text.js';
import { OTLP_STATUS_ERROR } from './otlp-span.js';
import type { OtlpSpan, OtlpValue } from './otlp-span.js';

/** The attribute that names the tenant unless configured otherwise. */
export const DEFAULT_TENANT_ATTRIBUTE = 'tenant.id';

/** How {@link mapOtelSpan} maps spans. */
export interface GenAiMappingOptions {
  /** Span (else resource) attribute holding the tenant id; default {@link DEFAULT_TENANT_ATTRIBUTE}. */
  tenantAttribute?: string;
  /**
   * Copy prompt and completion text from `gen_ai.input.messages` / `gen_ai.output.messages`
   * (span attributes or span events) into `inputText` / `outputText`; default false: no text at all.
   */
  captureContent?: boolean;
  /** Most attributes copied into `attributes`; default 64. */
  maxAttributes?: number;
  /** Longest attribute value copied, in characters (longer ones are cut); default 512. */
  maxAttributeLength?: number;
  /** Longest `inputText` / `outputText`, in characters (longer ones are cut); default 100 000. */
  maxContentChars?: number;
}

/** Attribute recording how many attributes did not fit into `attributes`. */
export const DROPPED_ATTRIBUTES_KEY = 'vigil.attributes_dropped';

const LLM_OPERATIONS = new Set(['chat', 'text_completion', 'generate_content']);
const INPUT_MESSAGES = 'gen_ai.input.messages';
const OUTPUT_MESSAGES = 'gen_ai.output.messages';
const MAX_KEY_LENGTH = 128;

// Attributes whose meaning is already in an LlmSpan field.
const MAPPED = new Set([
  'gen_ai.operation.name',
  'gen_ai.server.time_to_first_token',
  'gen_ai.response.time_to_first_chunk',
  'gen_ai.provider.name',
  'gen_ai.system',
  'gen_ai.response.model',
  'gen_ai.request.model',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.prompt_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.completion_tokens',
  'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.response.finish_reasons',
  'gen_ai.output.type',
  'user.id',
  'enduser.id',
  'session.id',
  'gen_ai.conversation.id',
]);

// Attributes that may hold prompt, completion, tool or query text: never copied into attributes,
// whether or not content capture is on.
const CONTENT = new Set([
  INPUT_MESSAGES,
  OUTPUT_MESSAGES,
  'gen_ai.system_instructions',
  'gen_ai.prompt',
  'gen_ai.completion',
  'gen_ai.tool.call.arguments',
  'gen_ai.tool.call.result',
  'gen_ai.retrieval.query.text',
  'gen_ai.retrieval.documents',
  'db.query.text',
  'db.statement',
]);
const CONTENT_PREFIXES = ['gen_ai.prompt.', 'gen_ai.completion.', 'llm.prompts', 'llm.completions'];

function isContentKey(key: string): boolean {
  return CONTENT.has(key) || CONTENT_PREFIXES.some((p) => key.startsWith(p));
}

const HEX_TRACE_ID = /^[0-9a-f]{32}$/;
const HEX_SPAN_ID = /^[0-9a-f]{16}$/;
const ALL_ZERO = /^0+$/;

function checkId(field: string, hex: string, pattern: RegExp, bytes: number): string {
  if (pattern.test(hex) && !ALL_ZERO.test(hex)) return hex;
  if (hex === '') return fail(field, 'is required but missing');
  const got = /^[0-9a-f]*$/.test(hex) ? `${hex.length / 2} byte(s)` : 'a value that is not hex';
  return fail(field, `must be ${bytes} bytes (${bytes * 2} hex digits), not all zero, got ${got}`);
}

function textOf(v: OtlpValue | undefined): string | null {
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function countOf(key: string, v: OtlpValue | undefined): number | null {
  if (v === undefined || v === null) return null;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= AVRO_INT_MAX) return n;
  return fail(key, `must be an integer in [0, ${AVRO_INT_MAX}], got ${describe(v)}`);
}

function secondsAsMs(key: string, v: OtlpValue | undefined): number | null {
  if (v === undefined || v === null) return null;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n === 'number' && n >= 0 && n < Infinity) return n * 1000;
  return fail(key, `must be a finite number of seconds ≥ 0, got ${describe(v)}`);
}

function finishReasonOf(v: OtlpValue | undefined): string | null {
  if (Array.isArray(v)) {
    const reasons = v.filter((r): r is string => typeof r === 'string' && r !== '');
    return reasons.length > 0 ? reasons.join(',') : null;
  }
  return textOf(v);
}

function stringValue(v: OtlpValue): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function kindOf(span: OtlpSpan, operation: string | null, isRoot: boolean): SpanKind {
  if (operation !== null) {
    if (LLM_OPERATIONS.has(operation)) return 'LLM';
    if (operation === 'embeddings') return 'EMBEDDING';
    if (operation === 'execute_tool') return 'TOOL';
    if (operation === 'retrieval') return 'RETRIEVAL';
  }
  let genAi = operation !== null;
  for (const key of span.attributes.keys()) {
    if (key.startsWith('db.')) return 'RETRIEVAL';
    if (key.startsWith('gen_ai.')) genAi = true;
  }
  return isRoot && !genAi ? 'PIPELINE' : 'OTHER';
}

function eventAttribute(span: OtlpSpan, key: string): OtlpValue | undefined {
  for (const event of span.events) {
    const v = event.attributes.get(key);
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

/**
 * Maps one OTLP span to a validated {@link LlmSpan}:
 *
 * - ids from the span's trace, span and parent ids (hex; an all-zero parent counts as none);
 * - `service` from the resource's `service.name` (`unknown_service` when absent, as OpenTelemetry
 *   SDKs do); `operation` from `gen_ai.operation.name`, else the span name;
 * - `startTime` (ms, floored) and `durationMs` from the span's start and end;
 * - `ttftMs` from `gen_ai.server.time_to_first_token` (else `gen_ai.response.time_to_first_chunk`),
 *   seconds × 1000;
 * - `provider` from `gen_ai.provider.name`, else the legacy `gen_ai.system`; `model` from
 *   `gen_ai.response.model`, else `gen_ai.request.model`; tokens from `gen_ai.usage.input_tokens`,
 *   `output_tokens` (or the legacy `prompt_tokens` / `completion_tokens`) and
 *   `cache_read.input_tokens`;
 * - `status` ERROR when the span status is ERROR, with `errorType` classified from `error.type`
 *   (`OTHER` without one);
 * - `userId` (`user.id`, `enduser.id`), `sessionId` (`session.id`, `gen_ai.conversation.id`) and
 *   `tenantId` (the tenant attribute) from the span, else its resource;
 * - `finishReason` from `gen_ai.response.finish_reasons` (comma-joined), `expectedFormat` from
 *   `gen_ai.output.type`;
 * - `kind` from `gen_ai.operation.name`: chat, text_completion and generate_content are LLM,
 *   embeddings EMBEDDING, execute_tool TOOL, retrieval RETRIEVAL; else a span with a `db.*`
 *   attribute is RETRIEVAL, a root span without any `gen_ai.*` attribute PIPELINE, and anything
 *   else OTHER;
 * - `inputText` / `outputText` only with `captureContent`, from the messages attributes of the span
 *   or of its events;
 * - every other span attribute as a string into `attributes` (arrays and maps as JSON), at most
 *   `maxAttributes` of them, values cut to `maxAttributeLength`; attributes that may carry prompt,
 *   completion, tool or query text are never copied.
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` naming the span field (`traceId`, `endTimeUnixNano`)
 *   or attribute (`gen_ai.usage.input_tokens`) at fault; never with an attribute's text.
 */
export function mapOtelSpan(span: OtlpSpan, options: GenAiMappingOptions = {}): LlmSpan {
  const tenantAttribute = options.tenantAttribute ?? DEFAULT_TENANT_ATTRIBUTE;
  const maxAttributes = options.maxAttributes ?? 64;
  const maxLength = options.maxAttributeLength ?? 512;
  const maxContent = options.maxContentChars ?? 100_000;
  const a = span.attributes;
  const either = (key: string): OtlpValue | undefined => a.get(key) ?? span.resource.get(key) ?? undefined;

  const traceId = checkId('traceId', span.traceId, HEX_TRACE_ID, 16);
  const spanId = checkId('spanId', span.spanId, HEX_SPAN_ID, 8);
  const parentSpanId = span.parentSpanId === '' || ALL_ZERO.test(span.parentSpanId) ? null : checkId('parentSpanId', span.parentSpanId, HEX_SPAN_ID, 8);
  if (span.startTimeUnixNano <= 0n) fail('startTimeUnixNano', 'is required but missing');
  if (span.endTimeUnixNano <= 0n) fail('endTimeUnixNano', 'is required but missing');
  if (span.endTimeUnixNano < span.startTimeUnixNano) fail('endTimeUnixNano', 'must not be before startTimeUnixNano');

  const operation = textOf(a.get('gen_ai.operation.name'));
  const failed = span.statusCode === OTLP_STATUS_ERROR;
  const errorTypeRaw = a.get('error.type');
  const errorType: ErrorType | null = failed ? classifyErrorType(textOf(errorTypeRaw) ?? '') : null;

  const attributes: Record<string, string> = {};
  let kept = 0;
  let dropped = 0;
  for (const [key, value] of a) {
    if (MAPPED.has(key) || key === tenantAttribute || isContentKey(key) || (failed && key === 'error.type')) continue;
    const text = stringValue(value);
    if (text === null) continue;
    if (kept >= maxAttributes || key.length > MAX_KEY_LENGTH) {
      dropped++;
      continue;
    }
    attributes[key] = text.length > maxLength ? text.slice(0, maxLength) : text;
    kept++;
  }
  if (dropped > 0) attributes[DROPPED_ATTRIBUTES_KEY] = String(dropped);

  const capture = options.captureContent === true;
  return validateSpan({
    traceId,
    spanId,
    parentSpanId,
    kind: kindOf(span, operation, parentSpanId === null),
    service: textOf(span.resource.get('service.name')) ?? 'unknown_service',
    operation: operation ?? span.name,
    startTime: Number(span.startTimeUnixNano / 1_000_000n),
    durationMs: Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6,
    ttftMs:
      secondsAsMs('gen_ai.server.time_to_first_token', a.get('gen_ai.server.time_to_first_token')) ??
      secondsAsMs('gen_ai.response.time_to_first_chunk', a.get('gen_ai.response.time_to_first_chunk')),
    provider: textOf(a.get('gen_ai.provider.name')) ?? textOf(a.get('gen_ai.system')),
    model: textOf(a.get('gen_ai.response.model')) ?? textOf(a.get('gen_ai.request.model')),
    inputTokens: countOf('gen_ai.usage.input_tokens', a.get('gen_ai.usage.input_tokens')) ?? countOf('gen_ai.usage.prompt_tokens', a.get('gen_ai.usage.prompt_tokens')),
    outputTokens:
      countOf('gen_ai.usage.output_tokens', a.get('gen_ai.usage.output_tokens')) ?? countOf('gen_ai.usage.completion_tokens', a.get('gen_ai.usage.completion_tokens')),
    cachedInputTokens: countOf('gen_ai.usage.cache_read.input_tokens', a.get('gen_ai.usage.cache_read.input_tokens')),
    status: failed ? 'ERROR' : 'OK',
    errorType,
    finishReason: finishReasonOf(a.get('gen_ai.response.finish_reasons')),
    userId: textOf(either('user.id')) ?? textOf(either('enduser.id')),
    tenantId: textOf(either(tenantAttribute)),
    sessionId: textOf(either('session.id')) ?? textOf(either('gen_ai.conversation.id')),
    inputText: capture ? messagesText(a.get(INPUT_MESSAGES) ?? eventAttribute(span, INPUT_MESSAGES), maxContent) : null,
    outputText: capture ? messagesText(a.get(OUTPUT_MESSAGES) ?? eventAttribute(span, OUTPUT_MESSAGES), maxContent) : null,
    expectedFormat: textOf(a.get('gen_ai.output.type')),
    attributes,
  });
}
