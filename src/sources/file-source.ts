/**
 * Replay files of spans: Avro object container files (`.avro`) and JSON Lines (`.jsonl`,
 * `.ndjson`), read as {@link SpanBatch}es and written for tests and the demo generator.
 */
import { createWriteStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable, pipeline } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import avro from 'avsc';
import { schemaType } from '../codec/schemas.js';
import { validateSpan } from '../codec/span-validation.js';
import type { LlmSpanInput } from '../codec/span-validation.js';
import { VigilError, isVigilError } from '../errors.js';
import type { LlmSpan } from '../model/index.js';
import { deadLetterFor } from './dead-letter.js';
import type { SpanBatch } from './span-source.js';

/** The replay file formats, chosen by file extension. */
export type SpanFileFormat = 'avro' | 'jsonl';

/** Options of {@link readSpanFile}. */
export interface ReadSpanFileOptions {
  /** Most records (spans plus dead letters) per batch; default 1000. */
  batchSize?: number;
}

/** Options of {@link writeSpanFile}. */
export interface WriteSpanFileOptions {
  /** Block compression of an `.avro` file: `null` (default) or `deflate`. Ignored for JSONL. */
  avroCodec?: 'null' | 'deflate';
}

const DEFAULT_BATCH_SIZE = 1000;

/**
 * The format of a span file from its extension: `.avro` is an Avro object container file,
 * `.jsonl` and `.ndjson` are JSON Lines.
 *
 * @throws VigilError `VIGIL_FILE_UNREADABLE` naming the path for any other extension.
 */
export function spanFileFormat(path: string): SpanFileFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.avro') return 'avro';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new VigilError(
    'VIGIL_FILE_UNREADABLE',
    `Span file ${path}: unknown extension ${ext === '' ? '(none)' : JSON.stringify(ext)}, expected .avro, .jsonl or .ndjson`,
    { details: { path } },
  );
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `batchSize: must be an integer ≥ 1, got ${String(batchSize)}`, {
      details: { field: 'batchSize' },
    });
  }
}

function unreadable(path: string, problem: string, cause: unknown): VigilError {
  const detail = cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? ` (${cause.code})` : '';
  return new VigilError('VIGIL_FILE_UNREADABLE', `Span file ${path}: ${problem}${detail}`, { cause, details: { path } });
}

async function openForReading(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (cause) {
    throw unreadable(path, 'cannot open for reading', cause);
  }
}

function emptyBatch(source: string): SpanBatch {
  return { source, spans: [], deadLetters: [] };
}

// V8's JSON.parse messages may quote the input; keep only the position.
function jsonProblem(error: unknown): string {
  const m = error instanceof Error ? /position (\d+)/.exec(error.message) : null;
  return m === null ? 'line is not valid JSON' : `line is not valid JSON (at column ${Number(m[1]) + 1})`;
}

async function* readJsonl(path: string, batchSize: number): AsyncGenerator<SpanBatch> {
  const handle = await openForReading(path);
  const input = handle.createReadStream({ encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let batch = emptyBatch(path);
  let lineNo = 0;
  let failure: unknown;
  try {
    for await (const raw of lines) {
      lineNo++;
      const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (line.trim() === '') continue;
      try {
        batch.spans.push(validateSpan(JSON.parse(line)));
      } catch (error) {
        const where = { source: path, position: lineNo, payload: Buffer.from(raw, 'utf8') };
        // JSON.parse throws SyntaxError; validateSpan throws VigilError.
        batch.deadLetters.push(error instanceof SyntaxError ? { reason: jsonProblem(error), ...where } : deadLetterFor(error, where));
      }
      if (batch.spans.length + batch.deadLetters.length >= batchSize) {
        yield batch;
        batch = emptyBatch(path);
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    lines.close();
    input.destroy();
  }
  // What was read before a read error is still delivered.
  if (batch.spans.length + batch.deadLetters.length > 0) yield batch;
  if (failure !== undefined) throw unreadable(path, lineNo === 0 ? 'cannot read' : `read failed after line ${lineNo}`, failure);
}

async function* readAvro(path: string, batchSize: number): AsyncGenerator<SpanBatch> {
  const handle = await openForReading(path);
  const spanType = schemaType('LlmSpan');
  // avsc's createFileDecoder pipes with .pipe(), which drops read errors; pipeline forwards them.
  const decoder = new avro.streams.BlockDecoder({ readerSchema: spanType });
  const input = handle.createReadStream();
  pipeline(input, decoder, () => undefined);
  let batch = emptyBatch(path);
  let recordNo = 0;
  let failure: unknown;
  try {
    for await (const record of decoder as AsyncIterable<unknown>) {
      recordNo++;
      try {
        batch.spans.push(validateSpan(record));
      } catch (error) {
        let payload: Buffer | undefined;
        try {
          payload = spanType.toBuffer(record);
        } catch {
          payload = undefined;
        }
        const where = payload === undefined ? { source: path, position: recordNo } : { source: path, position: recordNo, payload };
        batch.deadLetters.push(deadLetterFor(error, where));
      }
      if (batch.spans.length + batch.deadLetters.length >= batchSize) {
        yield batch;
        batch = emptyBatch(path);
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    input.destroy();
    decoder.destroy();
  }
  if (batch.spans.length + batch.deadLetters.length > 0) yield batch;
  if (failure !== undefined) {
    const problem = recordNo === 0 ? 'not a readable Avro object container file of LlmSpan records' : `corrupt Avro data after record ${recordNo}`;
    const reason = failure instanceof Error ? `: ${failure.message.slice(0, 120)}` : '';
    throw unreadable(path, `${problem}${reason}`, failure);
  }
}

/**
 * Reads a replay file as batches of at most `batchSize` records. Records that are not valid
 * spans become dead letters with their position (1-based line number in JSONL, record number in
 * Avro) and reason, and reading continues. In JSONL, blank lines are skipped and `startTime` may
 * be epoch milliseconds or an ISO-8601 string; field names are the schema's. Avro files written
 * with an older or newer compatible `LlmSpan` schema are resolved to the shipped one.
 *
 * Errors surface on iteration. If the file breaks off midway, the records read so far are still
 * delivered before the error.
 *
 * @throws VigilError `VIGIL_FILE_UNREADABLE` naming the path for an unknown extension, a file that
 *   cannot be opened or read, or an Avro file that is corrupt or of an incompatible schema;
 *   `VIGIL_CONFIG_INVALID` for a bad `batchSize`.
 */
export async function* readSpanFile(path: string, options: ReadSpanFileOptions = {}): AsyncGenerator<SpanBatch, void, undefined> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  checkBatchSize(batchSize);
  const format = spanFileFormat(path);
  if (format === 'avro') yield* readAvro(path, batchSize);
  else yield* readJsonl(path, batchSize);
}

async function* validated(spans: Iterable<LlmSpan | LlmSpanInput> | AsyncIterable<LlmSpan | LlmSpanInput>): AsyncGenerator<LlmSpan> {
  let index = 0;
  for await (const span of spans) {
    try {
      yield validateSpan(span);
    } catch (error) {
      if (!isVigilError(error)) throw error;
      throw new VigilError('VIGIL_RECORD_INVALID', `span #${index}: ${error.message}`, {
        cause: error,
        details: { ...error.details, index },
      });
    }
    index++;
  }
}

async function* jsonlChunks(spans: AsyncIterable<LlmSpan>): AsyncGenerator<string> {
  let chunk = '';
  for await (const span of spans) {
    chunk += JSON.stringify(span) + '\n';
    if (chunk.length >= 65536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * Writes spans to a replay file, replacing it: an Avro object container file with the shipped
 * `LlmSpan` schema for `.avro`, one JSON object per line for `.jsonl`/`.ndjson`. Every span is
 * validated first (missing optional fields take their defaults, ISO `startTime`s become epoch
 * milliseconds). On any error the partly written file is removed.
 *
 * @returns the number of spans written.
 * @throws VigilError `VIGIL_RECORD_INVALID` naming the span's index and the field at fault;
 *   `VIGIL_FILE_UNREADABLE` naming the path for an unknown extension or a failed write.
 */
export async function writeSpanFile(
  path: string,
  spans: Iterable<LlmSpan | LlmSpanInput> | AsyncIterable<LlmSpan | LlmSpanInput>,
  options: WriteSpanFileOptions = {},
): Promise<number> {
  const format = spanFileFormat(path);
  let count = 0;
  const counted = (async function* () {
    for await (const span of validated(spans)) {
      count++;
      yield span;
    }
  })();
  try {
    if (format === 'avro') {
      const encoder = new avro.streams.BlockEncoder(schemaType('LlmSpan'), { codec: options.avroCodec ?? 'null' });
      await pipelineAsync(Readable.from(counted), encoder, createWriteStream(path));
    } else {
      await pipelineAsync(Readable.from(jsonlChunks(counted)), createWriteStream(path, { encoding: 'utf8' }));
    }
  } catch (error) {
    await unlink(path).catch(() => undefined);
    if (isVigilError(error)) throw error;
    throw unreadable(path, 'write failed', error);
  }
  return count;
}
