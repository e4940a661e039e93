/**
 * Avro binary encoding of single records (no container, no schema-registry header) for Kafka
 * message values: spans, feedback and eval scores in, alerts out.
 */
import type { Type } from 'avsc';
import { VigilError } from '../errors.js';
import type { AlertEvent, EvalScoreEvent, FeedbackEvent, LlmSpan } from '../model/index.js';
import { validateEval, validateFeedback } from './event-validation.js';
import type { EvalScoreEventInput, FeedbackEventInput } from './event-validation.js';
import { schemaType } from './schemas.js';
import type { SchemaName } from './schemas.js';
import { SpanDecoder } from './span-decoder.js';
import { validateSpan } from './span-validation.js';
import type { LlmSpanInput } from './span-validation.js';

/** Options of the codecs. */
export interface CodecOptions {
  /**
   * The schema the producer wrote with, when it differs from the shipped reader schema (an older
   * or newer compatible version); records are resolved to the reader schema as Avro specifies.
   */
  writerType?: Type;
}

const COMPARATORS = new Set<string>(['>', '>=', '<', '<=']);

// avsc's read errors ("truncated buffer", "invalid union index: 7") carry no record content.
function decodeProblem(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  return message.length > 120 ? `${message.slice(0, 120)}…` : message;
}

const ENUM_INDEX = /^invalid (\S+) enum index: (-?\d+)$/;

function undecodable(record: string, cause: unknown, type: Type): VigilError {
  const problem = decodeProblem(cause);
  // An enum index past the reader's symbols is a symbol this schema version does not know.
  const m = ENUM_INDEX.exec(problem);
  const field = m === null ? undefined : enumField(type, m[1]);
  if (m !== null && field !== undefined) {
    return new VigilError('VIGIL_RECORD_INVALID', `${field.name}: unknown ${m[1]} symbol (index ${m[2]}; known: ${field.symbols.join(', ')})`, {
      cause,
      details: { field: field.name, reasonClass: 'invalid_field' },
    });
  }
  return new VigilError('VIGIL_RECORD_INVALID', `${record}: not a valid Avro binary ${record} record (${problem})`, {
    cause,
    details: { field: record, reasonClass: 'undecodable' },
  });
}

// The record field whose type (or a branch of its union) is the enum named `enumName`.
function enumField(type: Type, enumName: string): { name: string; symbols: string[] } | undefined {
  const fields = (type as unknown as { fields?: { name: string; type: Type }[] }).fields ?? [];
  for (const f of fields) {
    const branches = (f.type as unknown as { types?: Type[] }).types ?? [f.type];
    for (const b of branches) {
      const symbols = (b as unknown as { symbols?: string[] }).symbols;
      if (b.name === enumName && symbols !== undefined) return { name: f.name, symbols };
    }
  }
  return undefined;
}

function resolverFor(readerType: Type, writerType: Type | undefined): ReturnType<Type['createResolver']> | undefined {
  return writerType === undefined ? undefined : readerType.createResolver(writerType);
}

/** Encodes and decodes `vigil.v1.LlmSpan` records as Avro binary, validating every span. */
export class SpanCodec {
  /** The reader type, `schemas/llm-span.avsc`. */
  readonly type: Type;
  private readonly resolver: ReturnType<Type['createResolver']> | undefined;
  // Records written with the shipped schema take the one-pass reader; it leaves anything it
  // declines (and every record of another writer schema) to avsc + validateSpan.
  private readonly fast: SpanDecoder | null;

  /** A codec for the shipped `LlmSpan` schema. */
  constructor(options: CodecOptions = {}) {
    this.type = schemaType('LlmSpan');
    this.resolver = resolverFor(this.type, options.writerType);
    this.fast = options.writerType === undefined ? SpanDecoder.for(this.type) : null;
  }

  /**
   * Decodes one Avro binary record and validates it.
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` when the bytes are not an `LlmSpan` record (the avsc
   *   error is the cause) or the record breaks the contract (see `validateSpan`).
   */
  decode(buf: Buffer): LlmSpan {
    const span = this.fast?.decode(buf);
    if (span !== undefined) return span;
    let record: unknown;
    try {
      record = this.type.fromBuffer(buf, this.resolver);
    } catch (cause) {
      throw undecodable('LlmSpan', cause, this.type);
    }
    return validateSpan(record);
  }

  /**
   * Validates a span (filling defaults of missing optional fields) and encodes it.
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` naming the field at fault.
   */
  encode(span: LlmSpan | LlmSpanInput): Buffer {
    return this.type.toBuffer(validateSpan(span));
  }
}

/**
 * The common part of {@link FeedbackCodec} and {@link EvalCodec}: a codec of one input record type
 * whose every record goes through its validator, on decode and on encode.
 */
export abstract class ValidatingCodec<T, I> {
  /** The reader type, the shipped schema of the record. */
  readonly type: Type;
  private readonly resolver: ReturnType<Type['createResolver']> | undefined;

  protected constructor(
    private readonly record: SchemaName,
    private readonly validate: (obj: unknown) => T,
    options: CodecOptions,
  ) {
    this.type = schemaType(record);
    this.resolver = resolverFor(this.type, options.writerType);
  }

  /**
   * Decodes one Avro binary record (resolved from `options.writerType` when given) and validates it.
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` with `details.field` the record name when the bytes are
   *   not such a record (the avsc error is the cause), else naming the field that breaks the contract.
   */
  decode(buf: Buffer): T {
    let value: unknown;
    try {
      value = this.type.fromBuffer(buf, this.resolver);
    } catch (cause) {
      throw undecodable(this.record, cause, this.type);
    }
    return this.validate(value);
  }

  /**
   * Validates an event (filling defaults of missing optional fields, turning an ISO `timestamp`
   * into epoch milliseconds) and encodes it.
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` naming the field at fault.
   */
  encode(event: T | I): Buffer {
    return this.type.toBuffer(this.validate(event));
  }
}

/**
 * Encodes and decodes `vigil.v1.FeedbackEvent` records as Avro binary, validating every event
 * (see `validateFeedback`). `decode` throws `VIGIL_RECORD_INVALID` naming `FeedbackEvent` for bytes
 * that are not such a record, or the field at fault; `encode` fills defaults and throws naming the
 * field. No error ever shows the `comment`.
 */
export class FeedbackCodec extends ValidatingCodec<FeedbackEvent, FeedbackEventInput> {
  /** A codec for the shipped `FeedbackEvent` schema (`type` is `schemas/feedback-event.avsc`). */
  constructor(options: CodecOptions = {}) {
    super('FeedbackEvent', validateFeedback, options);
  }
}

/**
 * Encodes and decodes `vigil.v1.EvalScoreEvent` records as Avro binary, validating every event
 * (see `validateEval`); errors as {@link FeedbackCodec}'s, naming `EvalScoreEvent` for bytes that
 * are not such a record.
 */
export class EvalCodec extends ValidatingCodec<EvalScoreEvent, EvalScoreEventInput> {
  /** A codec for the shipped `EvalScoreEvent` schema (`type` is `schemas/eval-score-event.avsc`). */
  constructor(options: CodecOptions = {}) {
    super('EvalScoreEvent', validateEval, options);
  }
}

/** Encodes and decodes `vigil.v1.AlertEvent` records as Avro binary. */
export class AlertCodec {
  /** The reader type, `schemas/alert-event.avsc`. */
  readonly type: Type;
  private readonly resolver: ReturnType<Type['createResolver']> | undefined;

  /** A codec for the shipped `AlertEvent` schema. */
  constructor(options: CodecOptions = {}) {
    this.type = schemaType('AlertEvent');
    this.resolver = resolverFor(this.type, options.writerType);
  }

  /**
   * Encodes one alert.
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` naming every field that does not fit the schema.
   */
  encode(alert: AlertEvent): Buffer {
    if (!COMPARATORS.has(alert.comparator)) {
      throw new VigilError('VIGIL_RECORD_INVALID', 'AlertEvent.comparator: must be one of >, >=, <, <=', {
        details: { field: 'comparator' },
      });
    }
    try {
      return this.type.toBuffer(alert);
    } catch {
      // avsc's own message quotes the value; name the fields instead.
      const fields: string[] = [];
      this.type.isValid(alert, { errorHook: (path: string[]) => fields.push(path.join('.')) });
      const list = fields.length > 0 ? fields.join(', ') : '(unknown)';
      throw new VigilError('VIGIL_RECORD_INVALID', `AlertEvent: invalid value for field(s) ${list}`, {
        details: { field: fields[0] ?? 'AlertEvent', fields },
      });
    }
  }

  /**
   * Decodes one Avro binary alert into a plain object.
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` when the bytes are not an `AlertEvent` record.
   */
  decode(buf: Buffer): AlertEvent {
    let r: AlertEvent;
    try {
      r = this.type.fromBuffer(buf, this.resolver) as AlertEvent;
    } catch (cause) {
      throw undecodable('AlertEvent', cause, this.type);
    }
    if (!COMPARATORS.has(r.comparator)) {
      throw new VigilError('VIGIL_RECORD_INVALID', 'AlertEvent.comparator: must be one of >, >=, <, <=', {
        details: { field: 'comparator' },
      });
    }
    return {
      alertId: r.alertId,
      ruleName: r.ruleName,
      state: r.state,
      severity: r.severity,
      signal: r.signal,
      stat: r.stat,
      groupKey: r.groupKey,
      groupLabels: r.groupLabels,
      comparator: r.comparator,
      value: r.value,
      threshold: r.threshold,
      windowMs: r.windowMs,
      windowStart: r.windowStart,
      windowEnd: r.windowEnd,
      episodeStart: r.episodeStart,
      sampleCount: r.sampleCount,
      message: r.message,
    };
  }
}
