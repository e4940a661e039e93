/**
 * A direct Avro binary reader of `vigil.v2.SubWindowPartial` (`schemas/sub-window-partial.avsc`),
 * the counterpart of `sub-window-partial-writer.ts`: the record avsc's `fromBuffer` reads, without
 * avsc's intermediate records and with each digest a view into the message instead of a copy —
 * the group-wide stage reads every task's partial of every boundary, so this is on the hot path
 * of a short slide.
 *
 * Reads only what it can check as it goes; anything else (truncated or trailing bytes, a bad union
 * branch, an int out of range) returns null, and the caller decodes with avsc, whose error names
 * the problem.
 */

/** A version 2 partial record, each entry's counters spread over `counterWidth`. */
export interface ReadPartialRecord {
  task: number;
  family: string;
  subWindowMs: number;
  start: number;
  counterWidth: number;
  entries: ReadPartialEntry[];
}

/** One entry of a {@link ReadPartialRecord}: its counters dense, zero where the record has none. */
export interface ReadPartialEntry {
  values: string[];
  count: number;
  counters: Float64Array;
  digests: (Uint8Array | null)[];
}

const INT_MIN = -(2 ** 31);
const EMPTY = Buffer.alloc(0);
// The positions of the entry being read (reused; grown as needed).
let at: Int32Array<ArrayBuffer> = new Int32Array(64);

function growInts(a: Int32Array): Int32Array<ArrayBuffer> {
  const next = new Int32Array(a.length * 2);
  next.set(a);
  return next;
}

const INT_MAX = 2 ** 31 - 1;

/** Reads one record; not reentrant (one instance per module). */
class PartialReader {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Set when the bytes cannot be read here. */
  private bad = false;

  read(buf: Buffer): ReadPartialRecord | null {
    this.buf = buf;
    this.pos = 0;
    this.bad = false;
    const task = this.int();
    const family = this.string();
    const subWindowMs = this.long();
    const start = this.long();
    const counterWidth = this.int();
    if (counterWidth < 0) this.bad = true;
    const entries: ReadPartialEntry[] = [];
    for (let n = this.blockCount(); n > 0 && !this.bad; n = this.blockCount()) {
      for (; n > 0 && !this.bad; n--) entries.push(this.entry(counterWidth));
    }
    const record = { task, family, subWindowMs, start, counterWidth, entries };
    this.buf = EMPTY;
    return this.bad || this.pos !== buf.length ? null : record;
  }

  private entry(width: number): ReadPartialEntry {
    const values: string[] = [];
    for (let n = this.blockCount(); n > 0 && !this.bad; n = this.blockCount()) {
      for (; n > 0 && !this.bad; n--) values.push(this.string());
    }
    const count = this.long();
    // Positions first, then the sums they place: positions not ascending below the width, or not
    // one per sum, are left to avsc and the codec's check, which names them.
    let positions = 0;
    let previous = -1;
    for (let n = this.blockCount(); n > 0 && !this.bad; n = this.blockCount()) {
      for (; n > 0 && !this.bad; n--) {
        const k = this.int();
        if (k <= previous || k >= width) this.bad = true;
        if (positions === at.length) at = growInts(at);
        at[positions++] = previous = k;
      }
    }
    const counters = new Float64Array(this.bad ? 0 : width);
    let sums = 0;
    for (let n = this.blockCount(); n > 0 && !this.bad; n = this.blockCount()) {
      for (; n > 0 && !this.bad; n--) {
        const x = this.double();
        if (sums < positions) counters[at[sums]] = x;
        sums++;
      }
    }
    if (sums !== positions) this.bad = true;
    const digests: (Uint8Array | null)[] = [];
    for (let n = this.blockCount(); n > 0 && !this.bad; n = this.blockCount()) {
      for (; n > 0 && !this.bad; n--) {
        const branch = this.long();
        if (branch === 0) digests.push(null);
        else if (branch === 1) digests.push(this.bytes());
        else this.bad = true;
      }
    }
    return { values, count, counters, digests };
  }

  /** An array block's item count; a negative one is followed by the block's size in bytes. */
  private blockCount(): number {
    let n = this.long();
    if (n < 0) {
      n = -n;
      this.long();
    }
    return this.bad ? 0 : n;
  }

  // Zig-zag varint, as avsc's Tap.readLong: 28 bits in integers, the rest in floating point.
  private long(): number {
    const buf = this.buf;
    const end = buf.length;
    let pos = this.pos;
    let n = 0;
    let k = 0;
    let b: number;
    do {
      if (pos >= end) return this.fail();
      b = buf[pos++];
      n |= (b & 0x7f) << k;
      k += 7;
    } while (b & 0x80 && k < 28);
    if (b & 0x80) {
      let f = n;
      let fk = 2 ** 28;
      do {
        if (pos >= end || fk > 2 ** 63) return this.fail();
        b = buf[pos++];
        f += (b & 0x7f) * fk;
        fk *= 128;
      } while (b & 0x80);
      this.pos = pos;
      if (f > Number.MAX_SAFE_INTEGER) return this.fail();
      return (f % 2 ? -(f + 1) : f) / 2;
    }
    this.pos = pos;
    return (n >> 1) ^ -(n & 1);
  }

  private fail(): number {
    this.bad = true;
    return 0;
  }

  private int(): number {
    const n = this.long();
    if (n < INT_MIN || n > INT_MAX) this.bad = true;
    return n;
  }

  private double(): number {
    if (this.pos + 8 > this.buf.length) {
      this.bad = true;
      return 0;
    }
    const x = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return x;
  }

  private span(): number {
    const len = this.long();
    if (len < 0 || this.pos + len > this.buf.length) {
      this.bad = true;
      return -1;
    }
    return len;
  }

  private string(): string {
    const len = this.span();
    if (len < 0) return '';
    const at = this.pos;
    this.pos += len;
    return this.buf.toString('utf8', at, at + len);
  }

  private bytes(): Uint8Array {
    const len = this.span();
    if (len < 0) return this.buf.subarray(0, 0);
    const at = this.pos;
    this.pos += len;
    return this.buf.subarray(at, at + len);
  }
}

const reader = new PartialReader();

/**
 * The version 2 partial record of `buf` as avsc reads it, each entry's counters spread over the
 * record's width (a `Float64Array`, zero where it holds none) and each digest a view into `buf`;
 * null when the bytes are not one such record, or break the contract on counters, or hold
 * something this reader leaves to avsc.
 */
export function readSubWindowPartial(buf: Buffer): ReadPartialRecord | null {
  return reader.read(buf);
}
