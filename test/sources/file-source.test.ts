import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createWriteStream } from 'node:fs';
import avro from 'avsc';
import { schemaType } from '../../src/codec/schemas.js';
import { VigilError } from '../../src/errors.js';
import type { LlmSpan } from '../../src/model/index.js';
import { readSpanFile, spanFileFormat, writeSpanFile } from '../../src/sources/file-source.js';
import type { SpanBatch } from '../../src/sources/span-source.js';
import { PROMPT, fullSpan, minimalSpanJson, spanSeries } from '../codec/span-fixtures.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-file-source-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(path: string, batchSize?: number): Promise<SpanBatch[]> {
  const batches: SpanBatch[] = [];
  for await (const batch of readSpanFile(path, batchSize === undefined ? {} : { batchSize })) batches.push(batch);
  return batches;
}

function isUnreadable(path: string): (error: unknown) => boolean {
  return (error) => error instanceof VigilError && error.code === 'VIGIL_FILE_UNREADABLE' && error.message.includes(path) && error.details.path === path;
}

describe('readSpanFile and writeSpanFile', () => {
  it('decode an .avro and a .jsonl file of the same spans to deep-equal spans', async () => {
    const spans = spanSeries(25);
    const avroPath = join(dir, 'same.avro');
    const jsonlPath = join(dir, 'same.jsonl');
    assert.equal(await writeSpanFile(avroPath, spans), 25);
    assert.equal(await writeSpanFile(jsonlPath, spans), 25);
    const fromAvro = (await readAll(avroPath)).flatMap((b) => b.spans);
    const fromJsonl = (await readAll(jsonlPath)).flatMap((b) => b.spans);
    assert.deepEqual(fromAvro, spans);
    assert.deepEqual(fromJsonl, spans);
  });

  it('round-trip a deflate-compressed .avro file', async () => {
    const path = join(dir, 'deflate.avro');
    const spans = spanSeries(10);
    await writeSpanFile(path, spans, { avroCodec: 'deflate' });
    assert.deepEqual((await readAll(path)).flatMap((b) => b.spans), spans);
  });

  it('accept spans from an async iterable', async () => {
    const path = join(dir, 'async.jsonl');
    const spans = spanSeries(3);
    await writeSpanFile(path, Readable.from(spans));
    assert.deepEqual((await readAll(path)).flatMap((b) => b.spans), spans);
  });

  it('deliver batches of at most batchSize records, in file order', async () => {
    const path = join(dir, 'batches.avro');
    const spans = spanSeries(25);
    await writeSpanFile(path, spans);
    const batches = await readAll(path, 10);
    assert.deepEqual(
      batches.map((b) => b.spans.length),
      [10, 10, 5],
    );
    assert.ok(batches.every((b) => b.source === path && b.deadLetters.length === 0));
    assert.deepEqual(batches.flatMap((b) => b.spans), spans);
  });

  it('yield nothing for an empty file', async () => {
    const path = join(dir, 'empty.jsonl');
    await writeFile(path, '');
    assert.deepEqual(await readAll(path), []);
  });

  it('reject a batchSize below 1', async () => {
    await assert.rejects(readAll(join(dir, 'same.avro'), 0), (error: unknown) => error instanceof VigilError && error.code === 'VIGIL_CONFIG_INVALID');
  });
});

describe('readSpanFile on JSON Lines', () => {
  it('accepts startTime as epoch milliseconds or as an ISO-8601 string', async () => {
    const path = join(dir, 'times.jsonl');
    const lines = [
      JSON.stringify(minimalSpanJson({ spanId: 'a', startTime: 1735689600123 })),
      JSON.stringify(minimalSpanJson({ spanId: 'b', startTime: '2025-01-01T00:00:00.123Z' })),
    ];
    await writeFile(path, lines.join('\n') + '\n');
    const [batch] = await readAll(path);
    assert.deepEqual(
      batch.spans.map((s) => s.startTime),
      [1735689600123, 1735689600123],
    );
  });

  it('turns a broken line and a negative duration into dead letters with line numbers and keeps the rest', async () => {
    const path = join(dir, 'mixed.jsonl');
    const good = spanSeries(3);
    const lines = [
      JSON.stringify(good[0]),
      '{"traceId": "t", "spanId": ' + JSON.stringify(PROMPT), // line 2: broken JSON
      '',
      JSON.stringify(good[1]),
      JSON.stringify({ ...good[2], spanId: 'neg', durationMs: -12 }), // line 5
      '   ',
      JSON.stringify(good[2]),
    ];
    await writeFile(path, lines.join('\n'));
    const batches = await readAll(path);
    const spans = batches.flatMap((b) => b.spans);
    const dead = batches.flatMap((b) => b.deadLetters);
    assert.deepEqual(spans, good);
    assert.equal(dead.length, 2);

    assert.equal(dead[0].position, 2);
    assert.equal(dead[0].source, path);
    assert.match(dead[0].reason, /^line is not valid JSON/);
    assert.ok(!dead[0].reason.includes(PROMPT));
    assert.equal(dead[0].payload?.toString('utf8'), lines[1]);

    assert.equal(dead[1].position, 5);
    assert.equal(dead[1].field, 'durationMs');
    assert.equal(dead[1].reason, 'durationMs: must be a finite number ≥ 0, got -12');
    assert.deepEqual(JSON.parse(dead[1].payload?.toString('utf8') ?? ''), { ...good[2], spanId: 'neg', durationMs: -12 });
  });

  it('rejects a JSON value that is not an object', async () => {
    const path = join(dir, 'array.jsonl');
    await writeFile(path, '[1,2]\n"x"\n');
    const [batch] = await readAll(path);
    assert.deepEqual(
      batch.deadLetters.map((d) => [d.position, d.field]),
      [
        [1, 'span'],
        [2, 'span'],
      ],
    );
  });

  it('handles CRLF line endings and a byte-order mark', async () => {
    const path = join(dir, 'crlf.jsonl');
    const spans = spanSeries(2);
    await writeFile(path, '\ufeff' + spans.map((s) => JSON.stringify(s)).join('\r\n') + '\r\n');
    const batches = await readAll(path);
    assert.deepEqual(batches.flatMap((b) => b.spans), spans);
    assert.equal(batches.flatMap((b) => b.deadLetters).length, 0);
  });

  it('accepts the .ndjson extension', () => {
    assert.equal(spanFileFormat('/x/spans.NDJSON'), 'jsonl');
  });
});

describe('readSpanFile on Avro', () => {
  it('turns records that break the contract into dead letters with record numbers and re-encoded payloads', async () => {
    const path = join(dir, 'invalid-records.avro');
    const type = schemaType('LlmSpan');
    const records: LlmSpan[] = [fullSpan({ spanId: 'a' }), fullSpan({ spanId: 'b', traceId: '' }), fullSpan({ spanId: 'c' })];
    // Written straight through avsc, bypassing writeSpanFile's validation.
    await pipeline(Readable.from(records), new avro.streams.BlockEncoder(type), createWriteStream(path));
    const [batch] = await readAll(path);
    assert.deepEqual(
      batch.spans.map((s) => s.spanId),
      ['a', 'c'],
    );
    assert.equal(batch.deadLetters.length, 1);
    const [dead] = batch.deadLetters;
    assert.equal(dead.position, 2);
    assert.equal(dead.field, 'traceId');
    assert.ok(dead.payload !== undefined);
    assert.equal((type.fromBuffer(dead.payload) as LlmSpan).spanId, 'b');
  });

  it('fails with VIGIL_FILE_UNREADABLE naming the path for a file that is not an Avro container', async () => {
    const path = join(dir, 'not-avro.avro');
    await writeFile(path, 'this is not an avro file at all, just text\n');
    await assert.rejects(readAll(path), isUnreadable(path));
  });

  it('fails with VIGIL_FILE_UNREADABLE for a file of another record schema', async () => {
    const path = join(dir, 'alerts.avro');
    const type = avro.Type.forSchema({ type: 'record', name: 'Other', fields: [{ name: 'x', type: 'int' }] });
    await pipeline(Readable.from([{ x: 1 }]), new avro.streams.BlockEncoder(type), createWriteStream(path));
    await assert.rejects(readAll(path), isUnreadable(path));
  });
});

describe('readSpanFile errors', () => {
  it('fails with VIGIL_FILE_UNREADABLE naming the path for an unknown extension', async () => {
    const path = join(dir, 'spans.csv');
    await writeFile(path, 'a,b\n');
    await assert.rejects(readAll(path), (error: unknown) => {
      assert.ok(isUnreadable(path)(error));
      assert.match((error as Error).message, /unknown extension "\.csv", expected \.avro, \.jsonl or \.ndjson/);
      return true;
    });
  });

  it('fails with VIGIL_FILE_UNREADABLE naming the path for a missing file', async () => {
    const path = join(dir, 'missing.jsonl');
    await assert.rejects(readAll(path), (error: unknown) => {
      assert.ok(isUnreadable(path)(error));
      assert.match((error as Error).message, /ENOENT/);
      return true;
    });
  });

  it('fails with VIGIL_FILE_UNREADABLE naming the path for a directory', async () => {
    const path = join(dir, 'a-directory.jsonl');
    await import('node:fs/promises').then((fs) => fs.mkdir(path));
    await assert.rejects(readAll(path), isUnreadable(path));
  });
});

describe('writeSpanFile errors', () => {
  it('rejects an invalid span naming its index and field, and leaves no file behind', async () => {
    const path = join(dir, 'bad.avro');
    const spans = [fullSpan(), fullSpan({ durationMs: Number.NaN })];
    await assert.rejects(writeSpanFile(path, spans), (error: unknown) => {
      assert.ok(error instanceof VigilError);
      assert.equal(error.code, 'VIGIL_RECORD_INVALID');
      assert.equal(error.message, 'span #1: durationMs: must be a finite number ≥ 0, got NaN');
      assert.equal(error.details.index, 1);
      assert.equal(error.details.field, 'durationMs');
      return true;
    });
    assert.equal(existsSync(path), false);
  });

  it('fails with VIGIL_FILE_UNREADABLE naming the path for an unknown extension', async () => {
    const path = join(dir, 'out.parquet');
    await assert.rejects(writeSpanFile(path, []), isUnreadable(path));
  });

  it('writes one JSON object per line with every schema field', async () => {
    const path = join(dir, 'lines.jsonl');
    await writeSpanFile(path, [minimalSpanJson() as never]);
    const text = await readFile(path, 'utf8');
    const lines = text.split('\n');
    assert.equal(lines.length, 2);
    assert.equal(lines[1], '');
    const obj = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(Object.keys(obj).length, 27);
    assert.equal(obj.retryCount, 0);
  });
});
