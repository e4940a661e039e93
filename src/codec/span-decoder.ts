/**
 * A hand-written reader of `vigil.v1.LlmSpan` Avro binary records that decodes and validates in
 * one pass, for the hot path of the Kafka source: it returns exactly what
 * `validateSpan(type.fromBuffer(buf))` returns for every record it accepts, and declines (returns
 * `undefined`) anything it is unsure of — a malformed, truncated or invalid record — so that the
 * caller takes the avsc path, which decides and words the error. It is written against the
 * shipped schema's field layout and switches itself off when the schema differs.
 *
 * Why not avsc: its generic reader dispatches through a union type object per optional field and
 * a validator then copies the record; and short identifiers recur in every span (service, model,
 * tenant, user…), so they are interned here instead of being sliced out of the buffer — no native
 * call, no new string, and a hash V8 already knows when the engine looks them up in its maps.
 * Likewise the spans of one trace usually arrive one after another: a trace id (or parent span
 * id) equal to the previous record's is that same string, so the engine recognises the trace by
 * identity (the request assembler keeps the last trace's request), and its spans share one copy.
 */
import type { Type } from 'avsc';
import type { ErrorType, LlmSpan, SpanKind, SpanStatus } from '../model/index.js';
import { AVRO_INT_MAX } from './field-checks.js';
import { ERROR_TYPES, SPAN_KINDS, SPAN_STATUSES } from './span-validation.js';

/** The reader schema layout this decoder is written for, as {@link layoutOf} describes it. */
const EXPECTED_LAYOUT = [
  'traceId:string',
  'spanId:string',
  'parentSpanId:null|string',
  `kind:enum(${SPAN_KINDS.join('|')})`,
  'service:string',
  'operation:string',
  'startTime:long',
  'durationMs:double',
  'ttftMs:null|double',
  'provider:null|string',
  'model:null|string',
  'inputTokens:null|int',
  'outputTokens:null|int',
  'cachedInputTokens:null|int',
  'costUsd:null|double',
  `status:enum(${SPAN_STATUSES.join('|')})`,
  `errorType:null|enum(${ERROR_TYPES.join('|')})`,
  'retryCount:int',
  'fallback:boolean',
  'finishReason:null|string',
  'userId:null|string',
  'tenantId:null|string',
  'sessionId:null|string',
  'inputText:null|string',
  'outputText:null|string',
  'expectedFormat:null|string',
  'attributes:map(string)',
].join(',');

interface TypeShape {
  typeName: string;
  types?: TypeShape[];
  symbols?: string[];
  valuesType?: TypeShape;
  fields?: { name: string; type: TypeShape }[];
}

function describeType(t: TypeShape): string {
  if (t.types !== undefined) return t.types.map(describeType).join('|');
  if (t.symbols !== undefined) return `enum(${t.symbols.join('|')})`;
  if (t.valuesType !== undefined) return `map(${describeType(t.valuesType)})`;
  return t.typeName;
}

/** The field layout of a record type: `name:type` per field, in order (logical types as their underlying type). */
export function layoutOf(type: Type): string {
  const fields = (type as unknown as TypeShape).fields ?? [];
  return fields.map((f) => `${f.name}:${describeType(f.type)}`).join(',');
}

/** Node's undocumented slicing methods (what `toString` calls after checking its arguments; avsc uses them too). */
interface SlicingBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

const proto = Buffer.prototype as Partial<SlicingBuffer>;
const utf8Slice: (buf: Buffer, start: number, end: number) => string =
  typeof proto.utf8Slice === 'function' ? (buf, start, end) => (buf as SlicingBuffer).utf8Slice(start, end) : (buf, start, end) => buf.toString('utf8', start, end);
const latin1Slice: (buf: Buffer, start: number, end: number) => string =
  typeof proto.latin1Slice === 'function' ? (buf, start, end) => (buf as SlicingBuffer).latin1Slice(start, end) : (buf, start, end) => buf.toString('latin1', start, end);

const fromCharCode = String.fromCharCode;

/**
 * The string of 16 or 32 ASCII bytes — the hex span and trace ids of OpenTelemetry — from a
 * fixed-arity `String.fromCharCode`, which costs less than a native slice; `undefined` otherwise.
 */
function asciiId(b: Buffer, p: number, len: number): string | undefined {
  if (len !== 16 && len !== 32) return undefined;
  let bits = 0;
  for (let i = p; i < p + len; i++) bits |= b[i];
  if (bits & 0x80) return undefined;
  if (len === 16) {
    return fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15]);
  }
  // One call of 32 arguments: a concatenation would make a cons string, flattened again when hashed.
  return fromCharCode(
    b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15],
    b[p + 16], b[p + 17], b[p + 18], b[p + 19], b[p + 20], b[p + 21], b[p + 22], b[p + 23], b[p + 24], b[p + 25], b[p + 26], b[p + 27], b[p + 28], b[p + 29], b[p + 30], b[p + 31],
  );
}

/** The attributes of every span that has none. */
const NO_ATTRIBUTES: Record<string, string> = Object.freeze({});

/** Strings up to this many bytes are interned. */
const INTERN_MAX_BYTES = 64;
/** Slots of the intern table (a power of two); a slot holds the last string that hashed to it. */
const INTERN_SLOTS = 4096;
/** log2 of the bytes each intern slot keeps of its string (at least INTERN_MAX_BYTES). */
const INTERN_SHIFT = 6;

/**
 * Decodes `LlmSpan` records (see the module documentation). One instance per consumer: it keeps
 * a small table of recent identifier strings (at most 4096 of at most 64 bytes, with a copy of
 * their bytes: ≈ 300 KB, allocated by the first decode). Not reentrant.
 */
export class SpanDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Set when the record cannot be decoded here: truncated, an unknown branch or symbol, a negative length. */
  private bad = false;
  // Allocated by the first decode (an encode-only codec never needs them).
  private interned: string[] = [];
  // The bytes of each interned string (ASCII: its char codes), compared with the record's instead
  // of the string's characters; -1: the slot holds nothing.
  private internedBytes = new Uint8Array(0);
  private internedLength = new Int32Array(0);
  // The previous record's trace id and parent span id (a root's span id is its children's parent).
  private lastTraceId = '';
  private lastParentId = '';

  /**
   * A decoder for records written with `type`, or null when `type`'s layout is not the one this
   * decoder knows (a changed schema): callers then decode with avsc only.
   */
  static for(type: Type): SpanDecoder | null {
    return layoutOf(type) === EXPECTED_LAYOUT ? new SpanDecoder() : null;
  }

  /**
   * The span of one Avro binary record, as `validateSpan(type.fromBuffer(buf))` gives it, or
   * `undefined` when the record is malformed, breaks the contract or is unusual in a way this
   * reader leaves to avsc (which then throws the right error, or decodes it).
   */
  decode(buf: Buffer): LlmSpan | undefined {
    this.buf = buf;
    this.pos = 0;
    this.bad = false;
    if (this.internedLength.length === 0) {
      this.interned = new Array<string>(INTERN_SLOTS).fill('');
      this.internedBytes = new Uint8Array(INTERN_SLOTS << INTERN_SHIFT);
      this.internedLength = new Int32Array(INTERN_SLOTS).fill(-1);
    }
    const traceId = this.recurring(this.lastTraceId);
    this.lastTraceId = traceId;
    const spanId = this.recurring(this.lastParentId);
    let parentSpanId: string | null = null;
    if (this.branch()) {
      parentSpanId = this.recurring(this.lastParentId);
      this.lastParentId = parentSpanId;
    }
    const kind = SPAN_KINDS[this.long()] as SpanKind | undefined;
    const service = this.identifier();
    const operation = this.identifier();
    const startTime = this.long();
    const durationMs = this.double();
    const ttftMs = this.branch() ? this.double() : null;
    const provider = this.branch() ? this.identifier() : null;
    const model = this.branch() ? this.identifier() : null;
    const inputTokens = this.branch() ? this.long() : null;
    const outputTokens = this.branch() ? this.long() : null;
    const cachedInputTokens = this.branch() ? this.long() : null;
    const costUsd = this.branch() ? this.double() : null;
    const status = SPAN_STATUSES[this.long()] as SpanStatus | undefined;
    const errorType = this.branch() ? ((ERROR_TYPES[this.long()] as ErrorType | undefined) ?? this.fail()) : null;
    const retryCount = this.long();
    const fallback = this.buf[this.pos++] !== 0;
    const finishReason = this.branch() ? this.identifier() : null;
    const userId = this.branch() ? this.identifier() : null;
    const tenantId = this.branch() ? this.identifier() : null;
    const sessionId = this.branch() ? this.identifier() : null;
    const inputText = this.branch() ? this.string() : null;
    const outputText = this.branch() ? this.string() : null;
    const expectedFormat = this.branch() ? this.identifier() : null;
    const attributes = this.map();
    if (this.bad || this.pos !== buf.length || kind === undefined || status === undefined) return undefined;
    // The contract's checks that Avro's types leave open (validateSpan words the errors).
    if (traceId.length === 0 || spanId.length === 0 || service.length === 0 || operation.length === 0) return undefined;
    if (!Number.isSafeInteger(startTime) || !nonNegative(durationMs) || (ttftMs !== null && !nonNegative(ttftMs))) return undefined;
    if ((costUsd !== null && !nonNegative(costUsd)) || !count(retryCount)) return undefined;
    if ((inputTokens !== null && !count(inputTokens)) || (outputTokens !== null && !count(outputTokens))) return undefined;
    if (cachedInputTokens !== null && !count(cachedInputTokens)) return undefined;
    // Keys in schema order, as validateSpan builds them: every span shares one hidden class.
    return {
      traceId,
      spanId,
      parentSpanId,
      kind,
      service,
      operation,
      startTime,
      durationMs,
      ttftMs,
      provider,
      model,
      inputTokens,
      outputTokens,
      cachedInputTokens,
      costUsd,
      status,
      errorType,
      retryCount,
      fallback,
      finishReason,
      userId,
      tenantId,
      sessionId,
      inputText,
      outputText,
      expectedFormat,
      attributes,
    };
  }

  private fail(): never {
    this.bad = true;
    return undefined as never;
  }

  /** avsc's zig-zag varint reader, bit for bit (doubles beyond 2^28, as it does). */
  private long(): number {
    const buf = this.buf;
    let pos = this.pos;
    let n = 0;
    let k = 0;
    let b: number;
    let h: number;
    do {
      b = buf[pos++];
      h = b & 0x80;
      n |= (b & 0x7f) << k;
      k += 7;
    } while (h && k < 28);
    if (h) {
      let f = n;
      let fk = 268435456;
      do {
        b = buf[pos++];
        f += (b & 0x7f) * fk;
        fk *= 128;
      } while (b & 0x80);
      this.pos = pos;
      // The parity is the low group's while f is exact (avsc's f % 2, without a floating modulo).
      const odd = f < 9007199254740992 ? n & 1 : f % 2;
      return (odd ? -(f + 1) : f) / 2;
    }
    this.pos = pos;
    return (n >> 1) ^ -(n & 1);
  }

  /** The branch of a `["null", T]` union: false for null, true for T. */
  private branch(): boolean {
    const b = this.buf[this.pos++];
    if (b === 2) return true;
    if (b !== 0) this.bad = true;
    return false;
  }

  private double(): number {
    const pos = this.pos;
    this.pos = pos + 8;
    if (this.pos > this.buf.length) {
      this.bad = true;
      return 0;
    }
    return this.buf.readDoubleLE(pos);
  }

  /** The byte length of the next string; -1 (and the record flagged bad) when it does not fit. */
  private stringLength(): number {
    const len = this.long();
    if (!(len >= 0 && this.pos + len <= this.buf.length)) {
      this.bad = true;
      return -1;
    }
    return len;
  }

  private string(): string {
    const len = this.stringLength();
    if (len < 0) return '';
    const pos = this.pos;
    this.pos = pos + len;
    return utf8Slice(this.buf, pos, pos + len);
  }

  /** A string that often equals `last` (the same field of the previous record): then `last` itself. */
  private recurring(last: string): string {
    const len = this.stringLength();
    if (len < 0) return '';
    const buf = this.buf;
    const pos = this.pos;
    this.pos = pos + len;
    // Equal lengths and every char code equal to its byte means equal strings: a multi-byte UTF-8
    // sequence decodes to fewer UTF-16 units, and an invalid byte to U+FFFD, never a byte value.
    if (last.length === len) {
      let i = 0;
      while (i < len && last.charCodeAt(i) === buf[pos + i]) i++;
      if (i === len) return last;
    }
    return asciiId(buf, pos, len) ?? utf8Slice(buf, pos, pos + len);
  }

  /** A string likely to recur: short ASCII ones come from the intern table when they are there. */
  private identifier(): string {
    const buf = this.buf;
    let pos = this.pos;
    // A length below 64 is one varint byte: zig-zag doubled, so even and under 0x80.
    let len = buf[pos];
    if (len < 0x80 && (len & 1) === 0 && pos + 1 + (len >> 1) <= buf.length) {
      len >>= 1;
      pos++;
    } else {
      len = this.stringLength();
      if (len < 0) return '';
      pos = this.pos;
    }
    const end = pos + len;
    this.pos = end;
    if (len > INTERN_MAX_BYTES) return utf8Slice(buf, pos, end);
    // A hash of the length and four bytes — the last two (ids end in counters), the middle and the
    // first: a collision only costs a miss.
    const h = len === 0 ? 0 : Math.imul(len ^ (buf[end - 1] << 8) ^ (buf[end - 1 - (len >> 2)] << 16) ^ (buf[pos + (len >> 1)] << 4) ^ (buf[pos] << 12), 0x9e3779b1);
    const slot = (h >>> 20) & (INTERN_SLOTS - 1);
    const bytes = this.internedBytes;
    const at = slot << INTERN_SHIFT;
    if (this.internedLength[slot] === len) {
      let i = 0;
      while (i < len && bytes[at + i] === buf[pos + i]) i++;
      if (i === len) return this.interned[slot];
    }
    // Only ASCII is interned: other bytes decode as UTF-8, and their char codes are not the bytes.
    this.internedLength[slot] = -1;
    for (let i = 0; i < len; i++) {
      const b = buf[pos + i];
      if (b & 0x80) return utf8Slice(buf, pos, end);
      bytes[at + i] = b;
    }
    const s = latin1Slice(buf, pos, end);
    this.interned[slot] = s;
    this.internedLength[slot] = len;
    return s;
  }

  /**
   * A `map<string>` as avsc reads it: blocks of entries, a negative count followed by a byte size.
   * An empty map (most spans have no attributes) is one shared frozen object, not one per span.
   */
  private map(): Record<string, string> {
    if (this.buf[this.pos] === 0) {
      this.pos++;
      return NO_ATTRIBUTES;
    }
    const out: Record<string, string> = {};
    for (;;) {
      let n = this.long();
      if (n === 0 || this.bad) return out;
      if (n < 0) {
        n = -n;
        this.long();
      }
      for (; n > 0; n--) {
        const key = this.string();
        const value = this.string();
        if (this.bad) return out;
        out[key] = value;
      }
    }
  }
}

function nonNegative(v: number): boolean {
  return v >= 0 && v < Infinity;
}

function count(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= AVRO_INT_MAX;
}
