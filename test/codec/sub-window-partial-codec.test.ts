import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { SubWindowPartial } from '../../operators/sub-window-partial.js';
import { TDigest } from '../../operators/t-digest.js';
import { schemasDir } from '../../src/codec/schemas.js';
import {
  SUB_WINDOW_PARTIAL_SCHEMA_FILE,
  SUB_WINDOW_PARTIAL_V1_SCHEMA_FILE,
  decodeSubWindowPartial,
  encodeSubWindowPartial,
  subWindowPartialType,
} from '../../src/codec/sub-window-partial-codec.js';
import { readSubWindowPartial } from '../../src/codec/sub-window-partial-reader.js';
import { writeSubWindowPartial } from '../../src/codec/sub-window-partial-writer.js';
import { isVigilError } from '../../src/errors.js';

const START = Date.UTC(2025, 0, 1, 12, 0, 10);

function digestOf(values: readonly number[]): Uint8Array {
  const d = new TDigest();
  for (const v of values) d.add(v);
  return d.toBytes();
}

/** Two fine keys of a two-dimension family with three counters and two distributions. */
function partial(): SubWindowPartial {
  return {
    family: 'spans',
    subWindowMs: 10_000,
    start: START,
    entries: [
      { values: ['(overflow)', '(overflow)'], count: 7, counters: new Float64Array([1, 0.25, 3e-7]), digests: [digestOf([5, 6, 7]), null] },
      { values: ['chat-api', '(none)'], count: 2, counters: [0, 2, 0.1 + 0.2], digests: [digestOf([120.5, 80]), digestOf([33])] },
    ],
  };
}

interface SchemaJson {
  name: string;
  namespace: string;
  doc?: string;
  fields: { name: string; doc?: string; type: unknown }[];
}

/** The version 2 record avsc writes for a partial: each entry's non-zero counters and their positions. */
function sparseRecord(task: number, p: SubWindowPartial, counterWidth: number): Record<string, unknown> {
  return {
    task,
    ...p,
    counterWidth,
    entries: p.entries.map((e) => {
      const at = [...e.counters.keys()].filter((i) => e.counters[i] !== 0);
      return {
        values: e.values,
        count: e.count,
        counterIndexes: at,
        counterValues: at.map((i) => e.counters[i]),
        digests: e.digests.map((d) => (d === null ? null : Buffer.from(d))),
      };
    }),
  };
}

/** A decoded record as plain data (byte arrays as number arrays), for comparing two readers' results. */
function plain(x: unknown): unknown {
  if (x instanceof Float64Array) return [...x];
  if (x instanceof Uint8Array) return { bytes: [...x] };
  if (Array.isArray(x)) return x.map(plain);
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
}

/** What avsc reads of a version 2 record, each entry's counters spread over the width as the direct reader gives them. */
function avscDense(buf: Buffer): unknown {
  const r = subWindowPartialType().fromBuffer(buf) as { counterWidth: number; entries: { values: string[]; count: number; counterIndexes: number[]; counterValues: number[]; digests: unknown[] }[] };
  return plain({
    ...r,
    entries: r.entries.map((e) => {
      const counters = new Float64Array(r.counterWidth);
      e.counterIndexes.forEach((k, i) => (counters[k] = e.counterValues[i]));
      return { values: e.values, count: e.count, counters, digests: e.digests };
    }),
  });
}

function assertInvalid(fn: () => unknown, field: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isVigilError(err, 'VIGIL_RECORD_INVALID'), String(err));
    assert.equal(err.details.field, field, err.message);
    assert.ok(err.message.includes(field), err.message);
    return true;
  });
}

describe('sub-window partial record', () => {
  it('documents the record, its entries and every field, in namespace vigil.v2, and keeps version 1 beside it', () => {
    const read = (file: string): SchemaJson => JSON.parse(readFileSync(join(schemasDir(), file), 'utf8')) as SchemaJson;
    const json = read(SUB_WINDOW_PARTIAL_SCHEMA_FILE);
    assert.equal(`${json.namespace}.${json.name}`, 'vigil.v2.SubWindowPartial');
    assert.equal(subWindowPartialType().name, 'vigil.v2.SubWindowPartial');
    assert.ok((json.doc ?? '').length > 40);
    assert.deepEqual(
      json.fields.map((f) => f.name),
      ['task', 'family', 'subWindowMs', 'start', 'counterWidth', 'entries'],
    );
    const entries = json.fields[5].type as { items: { name: string; doc?: string; fields: { name: string; doc?: string }[] } };
    assert.equal(entries.items.name, 'PartialEntry');
    assert.deepEqual(
      entries.items.fields.map((f) => f.name),
      ['values', 'count', 'counterIndexes', 'counterValues', 'digests'],
    );
    for (const f of [...json.fields, ...entries.items.fields]) assert.ok((f.doc ?? '').length > 10, `field ${f.name} has no doc`);
    const v1 = read(SUB_WINDOW_PARTIAL_V1_SCHEMA_FILE);
    assert.equal(`${v1.namespace}.${v1.name}`, 'vigil.v1.SubWindowPartial');
    assert.equal(subWindowPartialType(1).name, 'vigil.v1.SubWindowPartial');
  });
});

describe('sub-window partial codec', () => {
  it('round-trips the task and the partial: values, counts, counters bit for bit and digest bytes', () => {
    const p = partial();
    const { task, partial: back } = decodeSubWindowPartial(encodeSubWindowPartial(7, p));
    assert.equal(task, 7);
    assert.deepEqual([back.family, back.subWindowMs, back.start], ['spans', 10_000, START]);
    assert.equal(back.entries.length, 2);
    back.entries.forEach((e, i) => {
      const original = p.entries[i];
      assert.deepEqual(e.values, [...original.values]);
      assert.equal(e.count, original.count);
      assert.deepEqual([...e.counters], [...original.counters]);
      assert.equal(e.digests.length, original.digests.length);
      e.digests.forEach((d, k) => {
        const o = original.digests[k];
        if (o === null) assert.equal(d, null);
        else assert.deepEqual(new Uint8Array(d!), o);
      });
    });
    const latency = TDigest.fromBytes(back.entries[1].digests[0]!);
    assert.deepEqual([latency.count, latency.min, latency.max, latency.sum], [2, 80, 120.5, 200.5]);
  });

  it('round-trips a partial without entries and the largest partition number', () => {
    const empty: SubWindowPartial = { family: 'feedback', subWindowMs: 1000, start: 0, entries: [] };
    assert.deepEqual(decodeSubWindowPartial(encodeSubWindowPartial(2 ** 31 - 1, empty)), { task: 2 ** 31 - 1, partial: empty });
  });

  it('writes exactly the bytes avsc writes of the sparse record, over 300 random partials (unicode values, negative and huge numbers, zeros, empty arrays), and reads back every counter', () => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const words = ['chat-api', '(none)', 'gpt-4o', 'модель', '模型-7', 'tenant 🚀', '', 'x'.repeat(70), 'é'.repeat(40)];
    const type = subWindowPartialType();
    let zeros = 0;
    for (let k = 0; k < 300; k++) {
      const dims = Math.floor(random() * 4);
      const width = Math.floor(random() * (random() < 0.2 ? 80 : 6));
      const p: SubWindowPartial = {
        family: words[Math.floor(random() * words.length)],
        subWindowMs: 1 + Math.floor(random() * 60_000),
        start: Math.floor(random() * 2 ** 45) * (random() < 0.1 ? -1 : 1),
        entries: Array.from({ length: Math.floor(random() * 5) }, () => ({
          values: Array.from({ length: dims }, () => words[Math.floor(random() * words.length)]),
          count: Math.floor(random() * (random() < 0.2 ? 2 ** 52 : 1000)),
          counters: Array.from({ length: width }, () => (random() < 0.5 ? 0 : (random() - 0.3) * 10 ** Math.floor(random() * 20))),
          digests: Array.from({ length: Math.floor(random() * 3) }, () => (random() < 0.3 ? null : digestOf([random() * 100, random() * 1e6]))),
        })),
      };
      p.start -= p.start % p.subWindowMs;
      const task = Math.floor(random() * 2 ** 31);
      const expected = type.toBuffer(sparseRecord(task, p, p.entries.length === 0 ? 0 : width));
      assert.deepEqual(writeSubWindowPartial(task, p, p.entries.length === 0 ? 0 : width), expected, `partial ${k}`);
      assert.deepEqual(encodeSubWindowPartial(task, p), expected, `partial ${k}`);
      // The direct reader reads what avsc reads.
      assert.deepEqual(plain(readSubWindowPartial(expected)), avscDense(expected), `partial ${k}`);
      const back = decodeSubWindowPartial(expected).partial;
      p.entries.forEach((e, i) => {
        assert.deepEqual([...back.entries[i].counters], [...e.counters], `partial ${k} entry ${i}`);
        zeros += e.counters.filter((c) => c === 0).length;
      });
    }
    assert.ok(zeros > 100, `the partials held ${zeros} zero counters`);
  });

  it('writes only the non-zero counters: an entry of 43 counters with 4 set costs 9 bytes (a position and a double) less per zero', () => {
    const counters = new Float64Array(43);
    counters.set([3, 0.25, 1e9, 7], 0);
    const sparse = new Float64Array(43);
    sparse[3] = 3;
    sparse[10] = 0.25;
    sparse[20] = 1e9;
    sparse[42] = 7;
    const dense = Float64Array.from({ length: 43 }, (_, i) => i + 1);
    const one = (c: Float64Array): SubWindowPartial => ({ family: 'spans', subWindowMs: 1000, start: 0, entries: [{ values: ['a'], count: 1, counters: c, digests: [] }] });
    const bytesOf = (c: Float64Array): number => encodeSubWindowPartial(0, one(c)).length;
    // 4 positions of one byte and 4 doubles, against 43 positions and 43 doubles.
    assert.equal(bytesOf(dense) - bytesOf(sparse), 39 * 9);
    assert.equal(bytesOf(counters), bytesOf(sparse));
    for (const c of [sparse, new Float64Array(43), dense]) {
      assert.deepEqual([...decodeSubWindowPartial(encodeSubWindowPartial(0, one(c))).partial.entries[0].counters], [...c]);
    }
    // A −0 is a zero: not written, read back as 0.
    const negativeZero = new Float64Array([-0, 1]);
    assert.ok(Object.is(decodeSubWindowPartial(encodeSubWindowPartial(0, one(negativeZero))).partial.entries[0].counters[0], 0));
  });

  it('reads a partial of the first version (every counter written) as the same partial', () => {
    const p = partial();
    const v1 = subWindowPartialType(1).toBuffer({
      task: 9,
      ...p,
      entries: p.entries.map((e) => ({ ...e, counters: Array.from(e.counters), digests: e.digests.map((d) => (d === null ? null : Buffer.from(d))) })),
    });
    const old = decodeSubWindowPartial(v1, 1);
    const current = decodeSubWindowPartial(encodeSubWindowPartial(9, p));
    assert.equal(old.task, 9);
    assert.deepEqual(
      old.partial.entries.map((e) => [e.values, e.count, [...e.counters], e.digests.map((d) => (d === null ? null : [...d]))]),
      current.partial.entries.map((e) => [e.values, e.count, [...e.counters], e.digests.map((d) => (d === null ? null : [...d]))]),
    );
  });

  it('reads digests as views into the message, and leaves bytes it cannot read to avsc', () => {
    const buf = encodeSubWindowPartial(3, partial());
    const r = readSubWindowPartial(buf)!;
    const digest = r.entries[0].digests[0]!;
    assert.equal(digest.buffer, buf.buffer);
    assert.deepEqual([...decodeSubWindowPartial(buf).partial.entries[0].digests[0]!], [...digest]);
    // Truncated, trailing bytes, a union branch beyond null|bytes, an int beyond 32 bits.
    assert.equal(readSubWindowPartial(buf.subarray(0, buf.length - 1)), null);
    assert.equal(readSubWindowPartial(Buffer.concat([buf, Buffer.from([0])])), null);
    const type = subWindowPartialType();
    const record = { task: 1, family: 'spans', subWindowMs: 1000, start: 5000, counterWidth: 2, entries: [{ values: ['a'], count: 1, counterIndexes: [1], counterValues: [2], digests: [null] }] };
    const good = type.toBuffer(record);
    const badBranch = Buffer.from(good);
    // The digests array is the record's last field: its one item's branch byte, then the array's end.
    assert.equal(badBranch[badBranch.length - 2], 0);
    badBranch[badBranch.length - 2] = 4;
    assert.equal(readSubWindowPartial(badBranch), null);
    assertInvalid(() => decodeSubWindowPartial(badBranch), 'SubWindowPartial');
    const bigTask = Buffer.concat([Buffer.from([0x80, 0x80, 0x80, 0x80, 0x10]), good.subarray(1)]);
    assert.equal(readSubWindowPartial(bigTask), null);
    // Arrays written in blocks with their byte sizes (negative counts), as other writers may: the
    // same record, its entries and values arrays each one block of -1 item and a byte size.
    const two = Buffer.alloc(8);
    two.writeDoubleLE(2);
    const entry = Buffer.concat([Buffer.from([0x01, 0x04, 0x02, 0x61, 0x00, 0x02, 0x02, 0x02, 0x00, 0x02]), two, Buffer.from([0x00, 0x02, 0x00, 0x00])]);
    const header = Buffer.concat([Buffer.from([0x02, 0x0a]), Buffer.from('spans'), Buffer.from([0xd0, 0x0f, 0x90, 0x4e, 0x04])]);
    const blocked = Buffer.concat([header, Buffer.from([0x01, entry.length * 2]), entry, Buffer.from([0x00])]);
    assert.deepEqual(plain(readSubWindowPartial(blocked)), avscDense(blocked));
    assert.deepEqual(plain(readSubWindowPartial(blocked)), plain(readSubWindowPartial(good)));
  });

  it('encodes equal partials to equal bytes', () => {
    assert.ok(encodeSubWindowPartial(1, partial()).equals(encodeSubWindowPartial(1, partial())));
  });

  it('rejects truncated, extended and foreign bytes as not a SubWindowPartial record', () => {
    const buf = encodeSubWindowPartial(3, partial());
    for (const bad of [buf.subarray(0, buf.length - 5), Buffer.concat([buf, Buffer.from([0, 1])]), Buffer.alloc(0), Buffer.from('{"task":3}'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]) {
      assertInvalid(() => decodeSubWindowPartial(bad), 'SubWindowPartial');
    }
  });

  it('rejects a decoded record that breaks the contract, naming the field', () => {
    const type = subWindowPartialType();
    const record = { task: 1, family: 'spans', subWindowMs: 1000, start: 5000, counterWidth: 3, entries: [] };
    assertInvalid(() => decodeSubWindowPartial(type.toBuffer({ ...record, task: -1 })), 'task');
    assertInvalid(() => decodeSubWindowPartial(type.toBuffer({ ...record, subWindowMs: 0 })), 'subWindowMs');
    assertInvalid(() => decodeSubWindowPartial(type.toBuffer({ ...record, start: 5500 })), 'start');
    assertInvalid(() => decodeSubWindowPartial(type.toBuffer({ ...record, counterWidth: -1 })), 'counterWidth');
    const entry = (counterIndexes: number[], counterValues: number[]): Record<string, unknown> => ({ ...record, entries: [{ values: [], count: 1, counterIndexes, counterValues, digests: [] }] });
    assert.deepEqual([...decodeSubWindowPartial(type.toBuffer(entry([0, 2], [4, 5]))).partial.entries[0].counters], [4, 0, 5]);
    // The direct reader leaves these to avsc and the check that names them.
    assert.equal(readSubWindowPartial(type.toBuffer(entry([0, 3], [4, 5]))), null);
    assert.equal(readSubWindowPartial(type.toBuffer(entry([0, 1], [4]))), null);
    assertInvalid(() => decodeSubWindowPartial(type.toBuffer(entry([0, 3], [4, 5]))), 'counterIndexes');
    assertInvalid(() => decodeSubWindowPartial(type.toBuffer(entry([2, 1], [4, 5]))), 'counterIndexes');
    assertInvalid(() => decodeSubWindowPartial(type.toBuffer(entry([1, 1], [4, 5]))), 'counterIndexes');
    assertInvalid(() => decodeSubWindowPartial(type.toBuffer(entry([-1], [4]))), 'counterIndexes');
    assertInvalid(() => decodeSubWindowPartial(type.toBuffer(entry([0, 1], [4]))), 'counterIndexes');
  });

  it('refuses to encode what the schema cannot hold, naming the field', () => {
    const p = partial();
    assertInvalid(() => encodeSubWindowPartial(-1, p), 'task');
    assertInvalid(() => encodeSubWindowPartial(1.5, p), 'task');
    assertInvalid(() => encodeSubWindowPartial(1, { ...p, start: START + 1 }), 'start');
    assertInvalid(() => encodeSubWindowPartial(1, { ...p, start: 1.5 }), 'start');
    assertInvalid(() => encodeSubWindowPartial(1, { ...p, subWindowMs: -10 }), 'subWindowMs');
    const noCount = { ...p, entries: [{ ...p.entries[0], count: undefined as unknown as number }] };
    assertInvalid(() => encodeSubWindowPartial(1, noCount), 'entries.0.count');
    const uneven = { ...p, entries: [p.entries[0], { ...p.entries[1], counters: [1, 2] }] };
    assertInvalid(() => encodeSubWindowPartial(1, uneven), 'counters');
  });
});
