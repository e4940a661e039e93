/**
 * A direct Avro binary writer of `vigil.v2.SubWindowPartial` (`schemas/sub-window-partial.avsc`):
 * the bytes avsc's `toBuffer` writes, without building avsc's record shape first (counters copied
 * into arrays, digests wrapped as Buffers) — partition tasks publish a partial per family at every
 * boundary, so this is on the hot path of a short slide.
 *
 * Writes only what it can check fits the schema as it goes; anything else returns null and the
 * caller falls back to avsc, whose validation names the field.
 */
import type { PartialEntry, SubWindowPartial } from '../../operators/sub-window-partial.js';

const MAX_LONG = Number.MAX_SAFE_INTEGER;

/** A growable output buffer with the Avro primitive writers the record needs. */
class AvroOut {
  buf = Buffer.allocUnsafe(4096);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let len = this.buf.length * 2;
    while (len < this.pos + n) len *= 2;
    const next = Buffer.allocUnsafe(len);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  // Zig-zag varint of a safe integer, as avsc's Tap.writeLong (arithmetic beyond 32 bits).
  long(n: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    let m = n >= 0 ? n * 2 : -n * 2 - 1;
    if (m < 0x80000000) {
      while (m > 0x7f) {
        buf[pos++] = (m & 0x7f) | 0x80;
        m >>>= 7;
      }
    } else {
      while (m >= 0x80) {
        buf[pos++] = (m & 0x7f) | 0x80;
        m = Math.floor(m / 128);
      }
    }
    buf[pos++] = m;
    this.pos = pos;
  }

  double(x: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(x, this.pos);
    this.pos += 8;
  }

  string(s: string): void {
    const n = Buffer.byteLength(s);
    this.long(n);
    this.ensure(n);
    this.buf.write(s, this.pos, n, 'utf8');
    this.pos += n;
  }

  bytes(b: Uint8Array): void {
    this.long(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  take(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    return out;
  }
}

const out = new AvroOut();

// Array.isArray would narrow a readonly array to any[].
function isList(x: unknown): x is readonly unknown[] {
  return Array.isArray(x);
}

function isLong(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && Math.abs(n) <= MAX_LONG;
}

function writeEntry(e: PartialEntry, width: number): boolean {
  const { values, counters, digests } = e;
  if (!isList(values) || !isLong(e.count) || !(isList(counters) || counters instanceof Float64Array) || !isList(digests)) return false;
  // Indexed loops: an array iterator per entry was a tenth of what publishing a short slide allocates.
  if (values.length > 0) {
    out.long(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'string') return false;
      out.string(v);
    }
  }
  out.long(0);
  out.long(e.count);
  const n = counters.length;
  if (n !== width) return false;
  // Sparse: the positions of the non-zero counters, then their sums.
  let nonZero = 0;
  for (let i = 0; i < n; i++) {
    const c = counters[i];
    if (typeof c !== 'number') return false;
    if (c !== 0) nonZero++;
  }
  if (nonZero > 0) {
    out.long(nonZero);
    for (let i = 0; i < n; i++) if (counters[i] !== 0) out.long(i);
  }
  out.long(0);
  if (nonZero > 0) {
    out.long(nonZero);
    for (let i = 0; i < n; i++) if (counters[i] !== 0) out.double(counters[i]);
  }
  out.long(0);
  if (digests.length > 0) {
    out.long(digests.length);
    for (let i = 0; i < digests.length; i++) {
      const d = digests[i];
      if (d === null) out.long(0);
      else if (d instanceof Uint8Array) {
        out.long(1);
        out.bytes(d);
      } else return false;
    }
  }
  out.long(0);
  return true;
}

/**
 * The Avro binary encoding of `{ task, ...partial, counterWidth }` as
 * `schemas/sub-window-partial.avsc` defines it, each entry's counters as the positions and sums of
 * its non-zero ones — byte for byte what avsc writes of that record — or null when some field does
 * not fit the schema or an entry does not hold `counterWidth` counters (the caller then lets avsc
 * name it).
 */
export function writeSubWindowPartial(task: number, partial: SubWindowPartial, counterWidth: number): Buffer | null {
  out.pos = 0;
  const { family, subWindowMs, start, entries } = partial;
  if (typeof family !== 'string' || !isLong(subWindowMs) || !isLong(start) || !isList(entries)) return null;
  out.long(task);
  out.string(family);
  out.long(subWindowMs);
  out.long(start);
  if (!Number.isInteger(counterWidth) || counterWidth < 0 || counterWidth > 0x7fffffff) return null;
  out.long(counterWidth);
  if (entries.length > 0) {
    out.long(entries.length);
    for (let i = 0; i < entries.length; i++) if (!writeEntry(entries[i], counterWidth)) return null;
  }
  out.long(0);
  return out.take();
}
