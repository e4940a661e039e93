/**
 * The decoders of the Kafka source's three kinds of event, plain Avro or through a schema registry.
 */
import type { KafkaMessage } from 'kafkajs';
import { EvalCodec, FeedbackCodec, SpanCodec } from '../codec/avro-codec.js';
import { ResolvingDecoder } from '../codec/registry/resolving-decoder.js';
import type { RecordDecoder, WriterSchemaSource } from '../codec/registry/resolving-decoder.js';
import type { EvalScoreEvent, FeedbackEvent, LlmSpan } from '../model/index.js';
import type { KafkaEventKind } from './kafka-source.js';

/** One decoder per kind of event, for one run of messages. */
export interface RunDecoders {
  spans: RecordDecoder<LlmSpan>;
  feedback: RecordDecoder<FeedbackEvent>;
  evals: RecordDecoder<EvalScoreEvent>;
}

/**
 * Decoders of `LlmSpan`, `FeedbackEvent` and `EvalScoreEvent` message values. Without a registry
 * every value is plain Avro in the shipped schema. With one, values in the Confluent wire format are
 * resolved from their writer schema (see {@link ResolvingDecoder}) and the rest read as plain Avro.
 */
export class EventDecoders {
  private readonly plain: RunDecoders;
  private readonly resolving: { spans: ResolvingDecoder<LlmSpan>; feedback: ResolvingDecoder<FeedbackEvent>; evals: ResolvingDecoder<EvalScoreEvent> } | undefined;

  /** Plain Avro decoders, resolving through `registry` when one is given. */
  constructor(registry?: WriterSchemaSource) {
    const spans = new SpanCodec();
    const feedback = new FeedbackCodec();
    const evals = new EvalCodec();
    this.plain = { spans, feedback, evals };
    if (registry === undefined) return;
    this.resolving = {
      spans: new ResolvingDecoder({ registry, readerType: spans.type, record: 'LlmSpan', decodePlain: (v) => spans.decode(v) }),
      feedback: new ResolvingDecoder({ registry, readerType: feedback.type, record: 'FeedbackEvent', decodePlain: (v) => feedback.decode(v) }),
      evals: new ResolvingDecoder({ registry, readerType: evals.type, record: 'EvalScoreEvent', decodePlain: (v) => evals.decode(v) }),
    };
  }

  /**
   * The decoders for `messages[start, end)` of a topic carrying `kind`: with a registry, the writer
   * schemas of their ids are looked up first.
   *
   * @throws VigilError `VIGIL_REGISTRY_FAILED` (retriable) when the registry could not be asked.
   */
  async forRun(kind: KafkaEventKind, messages: readonly KafkaMessage[], start: number, end: number): Promise<RunDecoders> {
    const resolving = this.resolving;
    if (resolving === undefined) return this.plain;
    const values = messages.slice(start, end).map((m) => m.value);
    if (kind === 'spans') return { ...this.plain, spans: await resolving.spans.prepare(values) };
    if (kind === 'feedback') return { ...this.plain, feedback: await resolving.feedback.prepare(values) };
    return { ...this.plain, evals: await resolving.evals.prepare(values) };
  }
}
