/**
 * A GenAI-instrumented service in miniature: the real OpenTelemetry JS SDK (BasicTracerProvider,
 * BatchSpanProcessor, the OTLP/HTTP exporter in its protobuf or JSON variant) recording one
 * end-user request with semantic-convention attributes and exporting it to an OTLP endpoint.
 */
import { SpanKind, SpanStatusCode, context, diag, DiagLogLevel, trace } from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** Event time of the request's root span. */
export const TRACE_START = Date.UTC(2026, 0, 1, 12, 0, 0);

/** Prompt and completion the chat span carries (only ever expected with content capture on). */
export const PROMPT = 'What is the capital of France?';
export const COMPLETION = 'Paris.';
/** Texts on the retrieval and tool spans that must never reach `attributes`. */
export const SECRET_QUERY = 'SELECT secret FROM vault';
export const SECRET_ARGS = '{"city":"Paris","apiKey":"k-123"}';

/** Ids of the spans of one exported request, by role. */
export type TraceIds = Record<SpanRole, { traceId: string; spanId: string; parentSpanId: string | null }>;

/** The spans {@link exportGenAiTrace} records. */
export type SpanRole = 'root' | 'chat' | 'embed' | 'retrieve' | 'tool' | 'rateLimited' | 'timedOut' | 'badTokens';

/** How to export. */
export interface ExportOptions {
  /** `proto`: application/x-protobuf; `json`: application/json. */
  protocol: 'proto' | 'json';
  gzip?: boolean;
  /** Also record a span with a negative token count, which the receiver must reject. */
  withInvalidSpan?: boolean;
  service?: string;
}

/** What an export did. */
export interface ExportResult {
  ids: TraceIds;
  /** Warnings the SDK logged through `diag` (the exporter reports partial success there). */
  warnings: string[];
}

const at = (offsetMs: number): number => TRACE_START + offsetMs;

/**
 * Records one request as GenAI spans and exports it to `endpoint` (`…/v1/traces`) in one batch,
 * resolving once the exporter is done.
 */
export async function exportGenAiTrace(endpoint: string, options: ExportOptions): Promise<ExportResult> {
  const warnings: string[] = [];
  diag.setLogger(
    {
      error: (...args: unknown[]) => warnings.push(args.map(String).join(' ')),
      warn: (...args: unknown[]) => warnings.push(args.map(String).join(' ')),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const exporterConfig = { url: endpoint, compression: options.gzip === true ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE };
  const exporter = options.protocol === 'proto' ? new ProtoTraceExporter(exporterConfig) : new JsonTraceExporter(exporterConfig);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.service ?? 'chat-api', 'deployment.environment.name': 'test', 'tenant.id': 'acme' }),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 64, scheduledDelayMillis: 60_000 })],
  });
  const tracer = provider.getTracer('vigil-test-genai', '1.0.0');
  const ids: Partial<TraceIds> = {};
  const done = (role: SpanRole, span: Span, endMs: number, parent: Span | null): void => {
    span.end(endMs);
    const ctx = span.spanContext();
    ids[role] = { traceId: ctx.traceId, spanId: ctx.spanId, parentSpanId: parent === null ? null : parent.spanContext().spanId };
  };

  const root = tracer.startSpan('answer-question', {
    kind: SpanKind.SERVER,
    startTime: at(0),
    attributes: { 'user.id': 'user-42', 'session.id': 'sess-7', 'app.tenant': 'globex', 'http.route': '/ask' },
  });
  const inRoot = trace.setSpan(context.active(), root);
  const child = (name: string, startMs: number, attributes: Attributes, kind = SpanKind.CLIENT): Span =>
    tracer.startSpan(name, { kind, startTime: at(startMs), attributes }, inRoot);

  const embed = child('embeddings embed-v4', 10, {
    'gen_ai.operation.name': 'embeddings',
    'gen_ai.system': 'cohere',
    'gen_ai.request.model': 'embed-v4',
    'gen_ai.usage.input_tokens': 12,
  });
  done('embed', embed, at(60), root);

  const retrieve = child('vector search', 60, { 'db.system.name': 'qdrant', 'db.collection.name': 'docs', 'db.query.text': SECRET_QUERY });
  done('retrieve', retrieve, at(90), root);

  const chat = child('chat gpt-4o', 100, {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.response.model': 'gpt-4o-2024-08-06',
    'gen_ai.request.temperature': 0.2,
    'gen_ai.usage.input_tokens': 1200,
    'gen_ai.usage.output_tokens': 300,
    'gen_ai.usage.cache_read.input_tokens': 1000,
    'gen_ai.server.time_to_first_token': 0.35,
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.conversation.id': 'conv-9',
    'user.id': 'user-42',
    'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: PROMPT }] }]),
  });
  chat.addEvent(
    'gen_ai.client.inference.operation.details',
    { 'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: COMPLETION }], finish_reason: 'stop' }]) },
    at(1500),
  );
  done('chat', chat, at(1600), root);

  const tool = child('execute_tool weather', 1600, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'weather', 'gen_ai.tool.call.arguments': SECRET_ARGS }, SpanKind.INTERNAL);
  done('tool', tool, at(1700), root);

  const rateLimited = child('chat claude-sonnet-4', 1700, {
    'gen_ai.operation.name': 'chat',
    'gen_ai.system': 'anthropic',
    'gen_ai.request.model': 'claude-sonnet-4',
    'error.type': 'anthropic.RateLimitError',
  });
  rateLimited.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited' });
  done('rateLimited', rateLimited, at(1750), root);

  const timedOut = child('chat gemini-2.5-flash', 1750, { 'gen_ai.operation.name': 'generate_content', 'gen_ai.provider.name': 'gcp.gemini', 'gen_ai.request.model': 'gemini-2.5-flash', 'error.type': 'timeout' });
  timedOut.setStatus({ code: SpanStatusCode.ERROR });
  done('timedOut', timedOut, at(2400), root);

  if (options.withInvalidSpan === true) {
    const bad = child('chat broken', 2400, { 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': -5 });
    done('badTokens', bad, at(2450), root);
  }

  done('root', root, at(2500), null);
  await provider.forceFlush();
  await provider.shutdown();
  diag.disable();
  return { ids: ids as TraceIds, warnings };
}
