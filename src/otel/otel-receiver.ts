/**
 * The OpenTelemetry bridge: an OTLP/HTTP trace receiver that maps GenAI spans to `LlmSpan`s and
 * hands them to a span producer, so services instrumented with OpenTelemetry need no Vigil code.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import type { Logger } from 'pino';
import { VigilError } from '../errors.js';
import type { LlmSpan } from '../model/index.js';
import { deadLetterFor } from '../sources/dead-letter.js';
import { defaultLogger } from '../sources/kafka-client.js';
import type { DeadLetter } from '../sources/span-source.js';
import { mapOtelSpan } from './genai-span-mapping.js';
import type { GenAiMappingOptions } from './genai-span-mapping.js';
import { decodeExportRequest } from './otlp-decode.js';
import type { OtlpEncoding } from './otlp-decode.js';
import type { OtlpSpan } from './otlp-span.js';
import { RPC_CODE, exportResponseBody, otlpContentType, statusBody } from './otlp-response.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** The path OTLP/HTTP exporters post traces to. */
export const OTLP_TRACES_PATH = '/v1/traces';

/** The OTLP/HTTP default port. */
export const OTLP_HTTP_PORT = 4318;

/** Where accepted spans go: a {@link VigilProducer} or anything with its `record`. */
export interface SpanRecorder {
  /** Buffers one span; the promise settles when it is delivered or has failed. */
  record(span: LlmSpan): Promise<void>;
}

/** Options of {@link startOtelReceiver}. */
export interface OtelReceiverOptions extends GenAiMappingOptions {
  /** Where mapped spans go, e.g. `createVigilProducer({ brokers, topic })`. */
  producer: SpanRecorder;
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** Port; default 4318, 0 for any free port. */
  port?: number;
  /** Largest request body, compressed and decompressed, in bytes; default 16 MiB. */
  maxBodyBytes?: number;
  /** Seconds a client is told to wait (`Retry-After`) when delivery failed; default 5. */
  retryAfterSeconds?: number;
  /** Logger; default pino at warn to stderr. Logs carry ids, counts and reasons, never text. */
  logger?: Logger;
  /** Called with the rejected spans of each request, in request order. */
  onDeadLetters?: (deadLetters: DeadLetter[]) => void;
}

/** Counters of an {@link OtelReceiver}. */
export interface OtelReceiverStats {
  /** Export requests answered 200. */
  requests: number;
  /** Spans mapped and delivered. */
  spansAccepted: number;
  /** Spans rejected as invalid (dead letters). */
  spansRejected: number;
  /** Requests refused as malformed (4xx) or not delivered (5xx). */
  failedRequests: number;
}

/** A running receiver. */
export interface OtelReceiver {
  /** Base URL, e.g. `http://127.0.0.1:4318`; exporters post to `${url}/v1/traces`. */
  readonly url: string;
  /** The port listened on. */
  readonly port: number;
  /** The counters so far. */
  stats(): OtelReceiverStats;
  /** Stops accepting connections and waits for requests in progress. Does not close the producer. */
  close(): Promise<void>;
}

/** The source name of the receiver's dead letters. */
export const OTLP_DEAD_LETTER_SOURCE = 'otlp-http';

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly rpcCode: number,
    message: string,
  ) {
    super(message);
  }
}

function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (media === 'application/x-protobuf' || media === 'application/protobuf') return 'protobuf';
  if (media === 'application/json') return 'json';
  return undefined;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new HttpProblem(413, RPC_CODE.RESOURCE_EXHAUSTED, `request body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpProblem(413, RPC_CODE.RESOURCE_EXHAUSTED, `request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

async function decompress(body: Buffer, contentEncoding: string | undefined, limit: number): Promise<Buffer> {
  const coding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return body;
  if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== 'deflate') {
    throw new HttpProblem(415, RPC_CODE.INVALID_ARGUMENT, `unsupported Content-Encoding ${coding.slice(0, 40)}; use gzip or none`);
  }
  try {
    return await (coding === 'deflate' ? inflateAsync(body, { maxOutputLength: limit }) : gunzipAsync(body, { maxOutputLength: limit }));
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpProblem(413, RPC_CODE.RESOURCE_EXHAUSTED, `decompressed request body over ${limit} bytes`);
    }
    throw new HttpProblem(400, RPC_CODE.INVALID_ARGUMENT, `request body is not valid ${coding} data`);
  }
}

function rejectionMessage(deadLetters: readonly DeadLetter[]): string {
  const shown = deadLetters.slice(0, 5).map((d) => `span ${d.position}: ${d.reason}`);
  const more = deadLetters.length > shown.length ? `; and ${deadLetters.length - shown.length} more` : '';
  return `${deadLetters.length} span(s) rejected: ${shown.join('; ')}${more}`;
}

/**
 * Starts an OTLP/HTTP trace receiver: `POST /v1/traces` with an `ExportTraceServiceRequest` as
 * `application/x-protobuf` or `application/json`, optionally `Content-Encoding: gzip` (or
 * `deflate`). Each span is mapped by {@link mapOtelSpan}; valid ones go to `options.producer`, and
 * the response (200) waits until they are delivered. Invalid spans become dead letters
 * (`onDeadLetters`, a warning in the log) and are reported in the response's `partial_success`
 * (`rejected_spans`, `error_message`) as the OTLP specification asks. A body that cannot be
 * decoded gets 400, a wrong content type 415, a body over the limit 413, and a failed delivery
 * 503 with `Retry-After` so the exporter retries; error bodies are `google.rpc.Status` messages in
 * the request's encoding. `GET /healthz` answers 200.
 *
 * @throws Error when the port cannot be listened on.
 */
export async function startOtelReceiver(options: OtelReceiverOptions): Promise<OtelReceiver> {
  const logger = (options.logger ?? defaultLogger()).child({ component: 'otel-receiver' });
  const limit = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const retryAfter = String(options.retryAfterSeconds ?? 5);
  const counters: OtelReceiverStats = { requests: 0, spansAccepted: 0, spansRejected: 0, failedRequests: 0 };

  const reply = (res: ServerResponse, status: number, contentType: string, body: Buffer | string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': contentType, ...headers });
    res.end(body);
  };

  const exportTraces = async (req: IncomingMessage, res: ServerResponse, encoding: OtlpEncoding): Promise<void> => {
    const body = await decompress(await readBody(req, limit), req.headers['content-encoding'], limit);
    let spans: OtlpSpan[];
    try {
      spans = decodeExportRequest(body, encoding);
    } catch (error) {
      throw new HttpProblem(400, RPC_CODE.INVALID_ARGUMENT, error instanceof VigilError ? error.message : 'undecodable request');
    }
    const accepted: LlmSpan[] = [];
    const deadLetters: DeadLetter[] = [];
    spans.forEach((span, i) => {
      try {
        accepted.push(mapOtelSpan(span, options));
      } catch (error) {
        deadLetters.push(deadLetterFor(error, { source: OTLP_DEAD_LETTER_SOURCE, position: i + 1 }));
      }
    });
    const deliveries: Promise<void>[] = [];
    try {
      for (const span of accepted) deliveries.push(options.producer.record(span));
      await Promise.all(deliveries);
    } catch (error) {
      // record() threw part-way (e.g. a full buffer): the promises already taken still settle.
      void Promise.allSettled(deliveries);
      logger.warn({ spans: accepted.length, error: error instanceof Error ? error.message : String(error) }, 'spans not delivered; the exporter is asked to retry');
      throw new HttpProblem(503, RPC_CODE.UNAVAILABLE, 'spans could not be delivered to Kafka; retry later');
    }
    counters.requests++;
    counters.spansAccepted += accepted.length;
    counters.spansRejected += deadLetters.length;
    let message = '';
    if (deadLetters.length > 0) {
      message = rejectionMessage(deadLetters);
      logger.warn({ rejected: deadLetters.length, accepted: accepted.length, first: deadLetters[0].reason }, 'spans rejected');
      try {
        options.onDeadLetters?.(deadLetters);
      } catch (error) {
        logger.error({ error: error instanceof Error ? error.message : String(error) }, 'onDeadLetters callback threw');
      }
    }
    reply(res, 200, otlpContentType(encoding), exportResponseBody(encoding, deadLetters.length, message));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) return reply(res, 200, 'text/plain', 'ok\n');
    if (path !== OTLP_TRACES_PATH) return reply(res, 404, 'text/plain', `not found; post traces to ${OTLP_TRACES_PATH}\n`);
    if (req.method !== 'POST') return reply(res, 405, 'text/plain', 'method not allowed; use POST\n', { allow: 'POST' });
    const encoding = encodingOf(req.headers['content-type']);
    try {
      if (encoding === undefined) throw new HttpProblem(415, RPC_CODE.INVALID_ARGUMENT, 'unsupported Content-Type; use application/x-protobuf or application/json');
      await exportTraces(req, res, encoding);
    } catch (error) {
      counters.failedRequests++;
      const problem = error instanceof HttpProblem ? error : new HttpProblem(500, RPC_CODE.INTERNAL, 'internal error');
      if (!(error instanceof HttpProblem)) logger.error({ error: error instanceof Error ? error.message : String(error) }, 'export request failed');
      const extra: Record<string, string> = problem.status === 503 ? { 'retry-after': retryAfter } : {};
      // An unread remainder of the body would be parsed as the next request.
      if (!req.complete) extra.connection = 'close';
      const as = encoding ?? 'protobuf';
      reply(res, problem.status, otlpContentType(as), statusBody(as, problem.rpcCode, problem.message), extra);
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? OTLP_HTTP_PORT, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info({ url: `${url}${OTLP_TRACES_PATH}` }, 'OTLP/HTTP trace receiver listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    stats: () => ({ ...counters }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        // Keep-alive connections that go idle later would hold close() until their timeout.
        const force = setTimeout(() => server.closeAllConnections(), 10_000).unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
