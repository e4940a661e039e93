/**
 * Replay files of spans, user feedback and eval scores: Avro object container files (`.avro`, one
 * record type per file) and JSON Lines (`.jsonl`, `.ndjson`, kinds mixed), read as
 * {@link SpanBatch}es and written for tests and the demo generator.
 */
import { createWriteStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable, pipeline } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import avro from 'avsc';
import type { Type } from 'avsc';
import { validateEval, validateFeedback } from '../codec/event-validation.js';
import type { EvalScoreEventInput, FeedbackEventInput } from '../codec/event-validation.js';
import { qualifiedSchemaName, schemaType } from '../codec/schemas.js';
import type { SchemaName } from '../codec/schemas.js';
import { validateSpan } from '../codec/span-validation.js';
import type { LlmSpanInput } from '../codec/span-validation.js';
import { VigilError, isVigilError } from '../errors.js';
import type { EvalScoreEvent, FeedbackEvent, LlmSpan } from '../model/index.js';
import { deadLetterFor } from './dead-letter.js';
import type { SpanBatch } from './span-source.js';

/** The replay file formats, chosen by file extension. */
export type SpanFileFormat = 'avro' | 'jsonl';

/** Options of {@link readSpanFile}. */
export interface ReadSpanFileOptions {
  /** Most records (spans, feedback, evals and dead letters) per batch; default 1000. */
  batchSize?: number;
}

/** What {@link writeEventFile} writes; every list is optional. */
export interface EventFileContents {
  spans?: Iterable<LlmSpan | LlmSpanInput>;
  feedback?: Iterable<FeedbackEvent | FeedbackEventInput>;
  evals?: Iterable<EvalScoreEvent | EvalScoreEventInput>;
}

/** How many events of each kind {@link writeEventFile} wrote. */
export interface EventFileCounts {
  spans: number;
  feedback: number;
  evals: number;
}

/** Options of {@link writeSpanFile} and {@link writeEventFile}. */
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

/** A file source's batch: every list present. */
type FileBatch = Required<SpanBatch>;

function emptyBatch(source: string): FileBatch {
  return { source, spans: [], feedback: [], evals: [], deadLetters: [] };
}

function recordsIn(batch: FileBatch): number {
  return batch.spans.length + batch.feedback.length + batch.evals.length + batch.deadLetters.length;
}

// The engine handles a batch's spans, then its feedback, then its evals; a batch holds its kinds in
// that order of the file, so handling it keeps the file's order (the kind's rank here).
const SPAN_RANK = 0;
const FEEDBACK_RANK = 1;
const EVAL_RANK = 2;

/** The kind of a parsed JSONL record: feedback has a `feedbackId` key, an eval score an `evalId` key, else a span. */
function jsonRank(value: unknown): number {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return SPAN_RANK;
  if ('feedbackId' in value) return FEEDBACK_RANK;
  if ('evalId' in value) return EVAL_RANK;
  return SPAN_RANK;
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
  // Highest kind rank in the batch: a record of a lower rank starts a new batch (see SPAN_RANK).
  let rank = SPAN_RANK;
  let lineNo = 0;
  let failure: unknown;
  try {
    for await (const raw of lines) {
      lineNo++;
      const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (line.trim() === '') continue;
      let value: unknown;
      let parsed = true;
      try {
        value = JSON.parse(line);
      } catch (error) {
        parsed = false;
        batch.deadLetters.push({ reason: jsonProblem(error), source: path, position: lineNo, payload: Buffer.from(raw, 'utf8') });
      }
      if (parsed) {
        const kind = jsonRank(value);
        if (kind < rank && recordsIn(batch) > 0) {
          yield batch;
          batch = emptyBatch(path);
        }
        rank = kind;
        try {
          if (kind === FEEDBACK_RANK) batch.feedback.push(validateFeedback(value));
          else if (kind === EVAL_RANK) batch.evals.push(validateEval(value));
          else batch.spans.push(validateSpan(value));
        } catch (error) {
          batch.deadLetters.push(deadLetterFor(error, { source: path, position: lineNo, payload: Buffer.from(raw, 'utf8') }));
        }
      }
      if (recordsIn(batch) >= batchSize) {
        yield batch;
        batch = emptyBatch(path);
        rank = SPAN_RANK;
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    lines.close();
    input.destroy();
  }
  // What was read before a read error is still delivered.
  if (recordsIn(batch) > 0) yield batch;
  if (failure !== undefined) throw unreadable(path, lineNo === 0 ? 'cannot read' : `read failed after line ${lineNo}`, failure);
}

/** How one record type of an Avro replay file is read: its reader type and where its records go. */
interface AvroRecordKind {
  name: SchemaName;
  add(batch: FileBatch, record: unknown): void;
}

const AVRO_RECORD_KINDS: readonly AvroRecordKind[] = [
  { name: 'LlmSpan', add: (batch, record) => void batch.spans.push(validateSpan(record)) },
  { name: 'FeedbackEvent', add: (batch, record) => void batch.feedback.push(validateFeedback(record)) },
  { name: 'EvalScoreEvent', add: (batch, record) => void batch.evals.push(validateEval(record)) },
];

const AVRO_RECORD_NAMES = AVRO_RECORD_KINDS.map((k) => qualifiedSchemaName(k.name)).join(', ');

// The header of an Avro object container file, as the specification defines it.
const AVRO_HEADER_TYPE = avro.Type.forSchema(
  {
    type: 'record',
    name: 'Header',
    namespace: 'org.apache.avro.file',
    fields: [
      { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
      { name: 'meta', type: { type: 'map', values: 'bytes' } },
      { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
    ],
  },
  { registry: {} },
);
const AVRO_MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const MAX_AVRO_HEADER_BYTES = 16 * 1024 * 1024;

const NOT_AVRO = 'not a readable Avro object container file';

/**
 * The writer schema of an Avro object container file, from its header; `null` for an empty file.
 * Reads from position 0 without moving the handle's file position.
 */
async function avroWriterType(handle: FileHandle, path: string): Promise<Type | null> {
  let size = 4096;
  for (;;) {
    const buf = Buffer.alloc(size);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buf, 0, size, 0));
    } catch (cause) {
      throw unreadable(path, 'cannot read', cause);
    }
    if (bytesRead === 0) return null;
    const head = buf.subarray(0, bytesRead);
    if (bytesRead < AVRO_MAGIC.length || !head.subarray(0, AVRO_MAGIC.length).equals(AVRO_MAGIC)) {
      throw unreadable(path, `${NOT_AVRO} (no Avro magic bytes)`, undefined);
    }
    let decoded: { value: unknown; offset: number };
    try {
      decoded = AVRO_HEADER_TYPE.decode(head, 0);
    } catch (cause) {
      throw unreadable(path, `${NOT_AVRO} (corrupt header)`, cause);
    }
    if (decoded.offset >= 0) {
      const meta = (decoded.value as { meta: Record<string, Buffer> }).meta;
      const schema = meta['avro.schema'];
      if (schema === undefined) throw unreadable(path, `${NOT_AVRO} (its header has no avro.schema)`, undefined);
      try {
        return avro.Type.forSchema(JSON.parse(schema.toString('utf8')) as Parameters<typeof avro.Type.forSchema>[0], { registry: {} });
      } catch (cause) {
        throw unreadable(path, `${NOT_AVRO} (the writer schema in its header is not a valid Avro schema)`, cause);
      }
    }
    if (bytesRead < size) throw unreadable(path, `${NOT_AVRO} (truncated header)`, undefined);
    if (size >= MAX_AVRO_HEADER_BYTES) throw unreadable(path, `${NOT_AVRO} (header larger than ${MAX_AVRO_HEADER_BYTES} bytes)`, undefined);
    size *= 4;
  }
}

/** The record kind of a writer schema, checked to resolve to the shipped schema of that name. */
function avroRecordKind(writerType: Type, path: string): { kind: AvroRecordKind; readerType: Type } {
  const name = writerType.name ?? `(unnamed ${writerType.typeName})`;
  const kind = AVRO_RECORD_KINDS.find((k) => qualifiedSchemaName(k.name) === writerType.name);
  if (kind === undefined) {
    throw new VigilError(
      'VIGIL_FILE_UNREADABLE',
      `Span file ${path}: its Avro schema ${name} is not one Vigil reads (expected records of ${AVRO_RECORD_NAMES})`,
      { details: { path, schema: name } },
    );
  }
  const readerType = schemaType(kind.name);
  try {
    readerType.createResolver(writerType);
  } catch (cause) {
    const problem = cause instanceof Error ? `: ${cause.message.slice(0, 120)}` : '';
    throw new VigilError('VIGIL_FILE_UNREADABLE', `Span file ${path}: its ${name} schema is not compatible with the shipped one${problem}`, {
      cause,
      details: { path, schema: name },
    });
  }
  return { kind, readerType };
}

async function* readAvro(path: string, batchSize: number): AsyncGenerator<SpanBatch> {
  const handle = await openForReading(path);
  let kind: AvroRecordKind;
  let readerType: Type;
  try {
    const writerType = await avroWriterType(handle, path);
    if (writerType === null) {
      await handle.close();
      return;
    }
    ({ kind, readerType } = avroRecordKind(writerType, path));
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  // avsc's createFileDecoder pipes with .pipe(), which drops read errors; pipeline forwards them.
  const decoder = new avro.streams.BlockDecoder({ readerSchema: readerType });
  const input = handle.createReadStream({ start: 0 });
  pipeline(input, decoder, () => undefined);
  let batch = emptyBatch(path);
  let recordNo = 0;
  let failure: unknown;
  try {
    for await (const record of decoder as AsyncIterable<unknown>) {
      recordNo++;
      try {
        kind.add(batch, record);
      } catch (error) {
        let payload: Buffer | undefined;
        try {
          payload = readerType.toBuffer(record);
        } catch {
          payload = undefined;
        }
        const where = payload === undefined ? { source: path, position: recordNo } : { source: path, position: recordNo, payload };
        batch.deadLetters.push(deadLetterFor(error, where));
      }
      if (recordsIn(batch) >= batchSize) {
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
  if (recordsIn(batch) > 0) yield batch;
  if (failure !== undefined) {
    const problem = recordNo === 0 ? `${NOT_AVRO} of ${kind.name} records` : `corrupt Avro data after record ${recordNo}`;
    const reason = failure instanceof Error ? `: ${failure.message.slice(0, 120)}` : '';
    throw unreadable(path, `${problem}${reason}`, failure);
  }
}

/**
 * Reads a replay file as batches of at most `batchSize` records: spans in `spans`, user feedback
 * in `feedback`, eval scores in `evals` (all three lists always present). Records that are not
 * valid become dead letters with their position (1-based line number in JSONL, record number in
 * Avro) and reason, and reading continues.
 *
 * JSONL: one JSON object per line, kinds mixed freely; a line with a `feedbackId` key is a
 * `FeedbackEvent`, else one with an `evalId` key an `EvalScoreEvent`, else an `LlmSpan`. Blank
 * lines are skipped, field names are the schemas', `startTime` and `timestamp` may be epoch
 * milliseconds or ISO-8601 strings. The engine handles a batch's spans, then its feedback, then its
 * evals, so a batch ends wherever the next record's kind comes earlier in that order than one
 * already in the batch: processed batch by batch, events keep the file's order.
 *
 * Avro: the record type is the writer schema's in the file header: `vigil.v1.LlmSpan`,
 * `vigil.v1.FeedbackEvent` or `vigil.v1.EvalScoreEvent` (an older or newer compatible version is
 * resolved to the shipped one); each record decodes to its kind. An empty file yields nothing.
 *
 * Errors surface on iteration. If the file breaks off midway, the records read so far are still
 * delivered before the error.
 *
 * @throws VigilError `VIGIL_FILE_UNREADABLE` naming the path for an unknown extension, a file that
 *   cannot be opened or read, an Avro file that is corrupt, of an unknown record schema (named in
 *   the message and in `details.schema`) or of a schema incompatible with the shipped one;
 *   `VIGIL_CONFIG_INVALID` for a bad `batchSize`.
 */
export async function* readSpanFile(path: string, options: ReadSpanFileOptions = {}): AsyncGenerator<SpanBatch, void, undefined> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  checkBatchSize(batchSize);
  const format = spanFileFormat(path);
  if (format === 'avro') yield* readAvro(path, batchSize);
  else yield* readJsonl(path, batchSize);
}

function withIndex(error: unknown, label: string, index: number): unknown {
  if (!isVigilError(error)) return error;
  return new VigilError('VIGIL_RECORD_INVALID', `${label} #${index}: ${error.message}`, {
    cause: error,
    details: { ...error.details, index },
  });
}

async function* validated(spans: Iterable<LlmSpan | LlmSpanInput> | AsyncIterable<LlmSpan | LlmSpanInput>): AsyncGenerator<LlmSpan> {
  let index = 0;
  for await (const span of spans) {
    try {
      yield validateSpan(span);
    } catch (error) {
      throw withIndex(error, 'span', index);
    }
    index++;
  }
}

async function* jsonlChunks(records: AsyncIterable<unknown> | Iterable<unknown>): AsyncGenerator<string> {
  let chunk = '';
  for await (const record of records) {
    chunk += JSON.stringify(record) + '\n';
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

/** One validated event of {@link writeEventFile}, with its event time and kind rank for ordering. */
interface TimedRecord {
  time: number;
  rank: number;
  record: LlmSpan | FeedbackEvent | EvalScoreEvent;
}

function collect<T>(out: TimedRecord[], items: Iterable<unknown> | undefined, validate: (obj: unknown) => T, time: (v: T) => number, rank: number, label: string): number {
  if (items === undefined) return 0;
  let index = 0;
  for (const item of items) {
    let record: T;
    try {
      record = validate(item);
    } catch (error) {
      throw withIndex(error, label, index);
    }
    out.push({ time: time(record), rank, record: record as TimedRecord['record'] });
    index++;
  }
  return index;
}

/**
 * Writes spans, user feedback and eval scores to a replay file, replacing it.
 *
 * `.jsonl`/`.ndjson`: every event on its own line, all kinds in one file ordered by event time
 * (spans by `startTime`, feedback and evals by `timestamp`; at equal times spans, then feedback,
 * then evals, each kind in the order given), so {@link readSpanFile} replays them in time order.
 * Every event is validated first (defaults filled, ISO times become epoch milliseconds), and all of
 * them are held in memory to be sorted.
 *
 * `.avro`: an Avro object container file holds one record type, so only the spans are written
 * (as {@link writeSpanFile} does) and `feedback` and `evals` are ignored — the counts returned say
 * so (`feedback: 0, evals: 0`). Write feedback or evals to Avro with avsc's `BlockEncoder` and
 * `schemaType('FeedbackEvent')` / `schemaType('EvalScoreEvent')`: {@link readSpanFile} reads them.
 *
 * On any error the partly written file is removed; an invalid event leaves no file at all.
 *
 * @returns how many events of each kind were written.
 * @throws VigilError `VIGIL_RECORD_INVALID` naming the event (`span #3`, `feedback #0`, `eval #2`,
 *   the index within its list, also in `details.index`) and the field at fault;
 *   `VIGIL_FILE_UNREADABLE` naming the path for an unknown extension or a failed write.
 */
export async function writeEventFile(path: string, events: EventFileContents, options: WriteSpanFileOptions = {}): Promise<EventFileCounts> {
  const format = spanFileFormat(path);
  if (format === 'avro') return { spans: await writeSpanFile(path, events.spans ?? [], options), feedback: 0, evals: 0 };
  const records: TimedRecord[] = [];
  const counts: EventFileCounts = {
    spans: collect(records, events.spans, validateSpan, (s) => s.startTime, SPAN_RANK, 'span'),
    feedback: collect(records, events.feedback, validateFeedback, (f) => f.timestamp, FEEDBACK_RANK, 'feedback'),
    evals: collect(records, events.evals, validateEval, (e) => e.timestamp, EVAL_RANK, 'eval'),
  };
  // Array.prototype.sort is stable: equal keys keep the order given.
  records.sort((a, b) => a.time - b.time || a.rank - b.rank);
  try {
    await pipelineAsync(
      Readable.from(jsonlChunks(records.map((r) => r.record))),
      createWriteStream(path, { encoding: 'utf8' }),
    );
  } catch (error) {
    await unlink(path).catch(() => undefined);
    throw unreadable(path, 'write failed', error);
  }
  return counts;
}
