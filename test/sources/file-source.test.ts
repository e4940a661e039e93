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
import { readSchemaJson, schemaType } from '../../src/codec/schemas.js';
import { VigilError } from '../../src/errors.js';
import type { LlmSpan } from '../../src/model/index.js';
import { readSpanFile, spanFileFormat, writeEventFile, writeSpanFile } from '../../src/sources/file-source.js';
import type { SpanBatch } from '../../src/sources/span-source.js';
import { COMMENT, evalSeries, feedbackSeries, fullEval, fullFeedback, minimalEvalJson, minimalFeedbackJson } from '../codec/event-fixtures.js';
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

/** Every record of the batches in the order the engine handles them: each batch's spans, then feedback, then evals. */
function engineOrder(batches: SpanBatch[]): string[] {
  return batches.flatMap((b) => [
    ...b.spans.map((s) => `span:${s.spanId}`),
    ...(b.feedback ?? []).map((f) => `feedback:${f.feedbackId}`),
    ...(b.evals ?? []).map((e) => `eval:${e.evalId}`),
  ]);
}

async function writeAvro(path: string, type: avro.Type, records: unknown[]): Promise<void> {
  await pipeline(Readable.from(records), new avro.streams.BlockEncoder(type), createWriteStream(path));
}

describe('readSpanFile on mixed JSON Lines', () => {
  it('tells spans, feedback (feedbackId) and eval scores (evalId) apart and keeps the file order for the engine', async () => {
    const path = join(dir, 'mixed-kinds.jsonl');
    const spans = spanSeries(4);
    const feedback = feedbackSeries(2);
    const evals = evalSeries(2);
    const records: unknown[] = [spans[0], feedback[0], spans[1], evals[0], feedback[1], spans[2], evals[1], spans[3]];
    await writeFile(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const batches = await readAll(path);
    assert.deepEqual(batches.flatMap((b) => b.spans), spans);
    assert.deepEqual(batches.flatMap((b) => b.feedback ?? []), feedback);
    assert.deepEqual(batches.flatMap((b) => b.evals ?? []), evals);
    assert.ok(batches.every((b) => b.deadLetters.length === 0 && b.source === path));
    // A span after feedback or an eval starts a new batch, so handling batch by batch keeps file order.
    assert.deepEqual(engineOrder(batches), [
      'span:span-0',
      'feedback:fb-0',
      'span:span-1',
      'eval:ev-0',
      'feedback:fb-1',
      'span:span-2',
      'eval:ev-1',
      'span:span-3',
    ]);
    assert.deepEqual(
      batches.map((b) => [b.spans.length, b.feedback?.length, b.evals?.length]),
      [
        [1, 1, 0],
        [1, 0, 1],
        [0, 1, 0],
        [1, 0, 1],
        [1, 0, 0],
      ],
    );
  });

  it('keeps runs of spans, then feedback, then evals in one batch', async () => {
    const path = join(dir, 'runs.jsonl');
    const records: unknown[] = [...spanSeries(3), ...feedbackSeries(2), ...evalSeries(2)];
    await writeFile(path, records.map((r) => JSON.stringify(r)).join('\n'));
    const batches = await readAll(path);
    assert.equal(batches.length, 1);
    assert.equal(batches[0].spans.length + (batches[0].feedback?.length ?? 0) + (batches[0].evals?.length ?? 0), 7);
  });

  it('counts every kind towards batchSize', async () => {
    const path = join(dir, 'mixed-batches.jsonl');
    const records: unknown[] = [...spanSeries(3), ...feedbackSeries(3), ...evalSeries(3)];
    await writeFile(path, records.map((r) => JSON.stringify(r)).join('\n'));
    const batches = await readAll(path, 4);
    assert.deepEqual(
      batches.map((b) => b.spans.length + (b.feedback?.length ?? 0) + (b.evals?.length ?? 0)),
      [4, 4, 1],
    );
  });

  it('turns invalid feedback and eval lines into dead letters naming the field, never showing the comment', async () => {
    const path = join(dir, 'bad-events.jsonl');
    const lines = [
      JSON.stringify(minimalFeedbackJson({ type: 'LIKE', comment: COMMENT })), // 1
      JSON.stringify(minimalEvalJson({ score: 'high' })), // 2
      JSON.stringify({ ...fullFeedback(), comment: [COMMENT] }), // 3
      JSON.stringify(minimalFeedbackJson({ feedbackId: null })), // 4: recognised by its key, even when null
      JSON.stringify(minimalFeedbackJson({ timestamp: '2025-01-01T00:00:00Z' })), // 5: valid
      JSON.stringify(minimalEvalJson({ timestamp: '2025-01-01T00:00:00.5Z' })), // 6: valid
    ];
    await writeFile(path, lines.join('\n'));
    const batches = await readAll(path);
    const dead = batches.flatMap((b) => b.deadLetters);
    assert.deepEqual(
      dead.map((d) => [d.position, d.field]),
      [
        [1, 'type'],
        [2, 'score'],
        [3, 'comment'],
        [4, 'feedbackId'],
      ],
    );
    for (const d of dead) assert.ok(!d.reason.includes(COMMENT) && !d.reason.includes('Jane Roe'), d.reason);
    assert.equal(dead[2].reason, 'comment: must be a string or null, got an array');
    assert.equal(dead[0].payload?.toString('utf8'), lines[0]);
    assert.deepEqual(
      batches.flatMap((b) => b.feedback ?? []).map((f) => f.timestamp),
      [1735689600000],
    );
    assert.deepEqual(
      batches.flatMap((b) => b.evals ?? []).map((e) => e.timestamp),
      [1735689600500],
    );
  });
});

describe('readSpanFile on Avro feedback and eval files', () => {
  it('reads a FeedbackEvent file by the writer schema in its header', async () => {
    const path = join(dir, 'feedback.avro');
    const feedback = feedbackSeries(12);
    await writeAvro(path, schemaType('FeedbackEvent'), feedback);
    const batches = await readAll(path, 5);
    assert.deepEqual(
      batches.map((b) => [b.spans.length, b.feedback?.length, b.evals?.length]),
      [
        [0, 5, 0],
        [0, 5, 0],
        [0, 2, 0],
      ],
    );
    assert.deepEqual(batches.flatMap((b) => b.feedback ?? []), feedback);
  });

  it('reads a deflate-compressed EvalScoreEvent file', async () => {
    const path = join(dir, 'evals.avro');
    const evals = evalSeries(7);
    await pipeline(Readable.from(evals), new avro.streams.BlockEncoder(schemaType('EvalScoreEvent'), { codec: 'deflate' }), createWriteStream(path));
    const batches = await readAll(path);
    assert.deepEqual(batches.flatMap((b) => b.evals ?? []), evals);
    assert.equal(batches.flatMap((b) => b.spans).length, 0);
  });

  it('turns a feedback record that breaks the contract into a dead letter naming the field, not the comment', async () => {
    const path = join(dir, 'feedback-invalid.avro');
    await writeAvro(path, schemaType('FeedbackEvent'), [fullFeedback({ feedbackId: 'a' }), fullFeedback({ feedbackId: 'b', score: Number.NaN }), fullFeedback({ feedbackId: 'c' })]);
    const [batch] = await readAll(path);
    assert.deepEqual(
      batch.feedback?.map((f) => f.feedbackId),
      ['a', 'c'],
    );
    const [dead] = batch.deadLetters;
    assert.equal(dead.position, 2);
    assert.equal(dead.field, 'score');
    assert.ok(!dead.reason.includes(COMMENT));
    assert.ok(dead.payload !== undefined);
    assert.equal((schemaType('FeedbackEvent').fromBuffer(dead.payload) as { feedbackId: string }).feedbackId, 'b');
  });

  it('resolves a feedback file written with an older compatible schema', async () => {
    const path = join(dir, 'feedback-old.avro');
    const schema = readSchemaJson('FeedbackEvent');
    const fields = (schema.fields as { name: string }[]).filter((f) => f.name !== 'comment' && f.name !== 'tenantId');
    const writer = avro.Type.forSchema({ ...schema, fields } as never, { wrapUnions: 'never' });
    const old = feedbackSeries(2).map((f) => {
      const o: Record<string, unknown> = { ...f };
      delete o.comment;
      delete o.tenantId;
      return o;
    });
    await writeAvro(path, writer, old);
    const got = (await readAll(path)).flatMap((b) => b.feedback ?? []);
    assert.deepEqual(
      got,
      feedbackSeries(2).map((f) => ({ ...f, comment: null, tenantId: null })),
    );
  });

  it('fails with VIGIL_FILE_UNREADABLE naming the schema of an unknown record type', async () => {
    const path = join(dir, 'unknown-record.avro');
    const type = avro.Type.forSchema({ type: 'record', name: 'Clicks', namespace: 'acme.web', fields: [{ name: 'x', type: 'int' }] });
    await writeAvro(path, type, [{ x: 1 }]);
    await assert.rejects(readAll(path), (error: unknown) => {
      assert.ok(isUnreadable(path)(error));
      const e = error as VigilError;
      assert.match(e.message, /Avro schema acme\.web\.Clicks is not one Vigil reads/);
      assert.match(e.message, /vigil\.v1\.LlmSpan, vigil\.v1\.FeedbackEvent, vigil\.v1\.EvalScoreEvent/);
      assert.equal(e.details.schema, 'acme.web.Clicks');
      return true;
    });
  });

  it('fails with VIGIL_FILE_UNREADABLE for a FeedbackEvent schema incompatible with the shipped one', async () => {
    const path = join(dir, 'feedback-incompatible.avro');
    const type = avro.Type.forSchema({ type: 'record', name: 'FeedbackEvent', namespace: 'vigil.v1', fields: [{ name: 'feedbackId', type: 'int' }] });
    await writeAvro(path, type, [{ feedbackId: 1 }]);
    await assert.rejects(readAll(path), (error: unknown) => {
      assert.ok(isUnreadable(path)(error));
      assert.match((error as Error).message, /vigil\.v1\.FeedbackEvent schema is not compatible with the shipped one/);
      return true;
    });
  });

  it('yields nothing for an empty .avro file and fails on a truncated header', async () => {
    const empty = join(dir, 'empty.avro');
    await writeFile(empty, '');
    assert.deepEqual(await readAll(empty), []);
    const full = join(dir, 'truncated-source.avro');
    await writeAvro(full, schemaType('FeedbackEvent'), feedbackSeries(1));
    const truncated = join(dir, 'truncated.avro');
    await writeFile(truncated, (await readFile(full)).subarray(0, 40));
    await assert.rejects(readAll(truncated), isUnreadable(truncated));
  });
});

describe('writeEventFile', () => {
  it('writes one .jsonl of every kind ordered by event time that reads back as the same events', async () => {
    const path = join(dir, 'events.jsonl');
    const spans = [fullSpan({ spanId: 's-late', startTime: 3000 }), fullSpan({ spanId: 's-early', startTime: 1000 })];
    const feedback = [fullFeedback({ feedbackId: 'f-2000', timestamp: 2000 }), fullFeedback({ feedbackId: 'f-1000', timestamp: 1000 })];
    const evals = [fullEval({ evalId: 'e-1000', timestamp: 1000 }), fullEval({ evalId: 'e-4000', timestamp: 4000 })];
    const counts = await writeEventFile(path, { spans, feedback, evals });
    assert.deepEqual(counts, { spans: 2, feedback: 2, evals: 2 });
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    const ids = lines.map((l) => {
      const o = JSON.parse(l) as Record<string, string>;
      return o.feedbackId ?? o.evalId ?? o.spanId;
    });
    // At equal times: spans, then feedback, then evals.
    assert.deepEqual(ids, ['s-early', 'f-1000', 'e-1000', 'f-2000', 's-late', 'e-4000']);
    const batches = await readAll(path);
    assert.deepEqual(engineOrder(batches), ['span:s-early', 'feedback:f-1000', 'eval:e-1000', 'feedback:f-2000', 'span:s-late', 'eval:e-4000']);
    assert.deepEqual(batches.flatMap((b) => b.feedback ?? []), [feedback[1], feedback[0]]);
  });

  it('validates first, filling defaults and converting ISO timestamps', async () => {
    const path = join(dir, 'events-defaults.jsonl');
    await writeEventFile(path, { feedback: [minimalFeedbackJson({ timestamp: '2025-01-01T00:00:00Z' }) as never], evals: [minimalEvalJson() as never] });
    const [batch] = await readAll(path);
    assert.equal(batch.feedback?.[0].timestamp, 1735689600000);
    assert.equal(batch.feedback?.[0].comment, null);
    assert.deepEqual(batch.evals?.[0].attributes, {});
  });

  it('rejects an invalid event naming its kind, index and field, leaving no file and no comment in the message', async () => {
    const path = join(dir, 'events-bad.jsonl');
    const feedback = [fullFeedback(), { ...fullFeedback(), comment: 42 } as never];
    await assert.rejects(writeEventFile(path, { spans: spanSeries(2), feedback }), (error: unknown) => {
      assert.ok(error instanceof VigilError);
      assert.equal(error.code, 'VIGIL_RECORD_INVALID');
      assert.equal(error.message, 'feedback #1: comment: must be a string or null, got a number');
      assert.equal(error.details.index, 1);
      assert.equal(error.details.field, 'comment');
      return true;
    });
    assert.equal(existsSync(path), false);
    await assert.rejects(writeEventFile(path, { evals: [fullEval({ score: Number.NaN })] }), /^VigilError: eval #0: score: /);
  });

  it('writes only the spans to an .avro file and says so in its counts', async () => {
    const path = join(dir, 'events.avro');
    const spans = spanSeries(3);
    const counts = await writeEventFile(path, { spans, feedback: feedbackSeries(2), evals: evalSeries(1) });
    assert.deepEqual(counts, { spans: 3, feedback: 0, evals: 0 });
    const batches = await readAll(path);
    assert.deepEqual(batches.flatMap((b) => b.spans), spans);
    assert.equal(batches.flatMap((b) => [...(b.feedback ?? []), ...(b.evals ?? [])]).length, 0);
  });
});
