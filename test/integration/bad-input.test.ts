import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import avro from 'avsc';
import type { Message } from 'kafkajs';
import { FeedbackCodec, SpanCodec } from '../../src/codec/avro-codec.js';
import { DeadLetterCodec, type DeadLetterRecord } from '../../src/codec/dead-letter-codec.js';
import { schemaType } from '../../src/codec/schemas.js';
import type { LlmSpan } from '../../src/model/index.js';
import { committedOffsets, createTopic, deleteGroups, deleteTopics, endOffsets, kafkaBrokers, produceRaw, randomName, testKafka } from '../helpers/kafka-test-env.js';
import { makeSpan } from '../helpers/span-factory.js';
import { startVigilRun, waitFor, type VigilProcess } from '../helpers/vigil-process.js';

// A marker in the prompt and output of every bad record: it must never reach a log line.
const SECRET = 'SECRET-PROMPT-do-not-log-7f3a';
const HOUR = 3_600_000;
// Event time: an hour ago, so that "now" bounds hold; sub-window aligned.
const T0 = Math.floor((Date.now() - HOUR) / 60_000) * 60_000;
const FLOOD = 10_500;

const codec = new SpanCodec();

function writerWith(mutate: (fields: { name: string; type: unknown }[]) => void): avro.Type {
  const schema = JSON.parse(JSON.stringify(schemaType('LlmSpan').schema())) as { fields: { name: string; type: unknown }[] };
  mutate(schema.fields);
  return avro.Type.forSchema(schema as avro.Schema, { wrapUnions: 'never', registry: {} } as never);
}

interface Planted {
  message: Message;
  /** The class the record must be dead-lettered with; undefined for a good (if odd) record. */
  reasonClass?: DeadLetterRecord['reasonClass'];
  field?: string;
}

function good(span: Partial<LlmSpan>): Planted {
  return { message: { key: span.traceId ?? null, value: codec.encode(makeSpan(span)) } };
}

function bad(reasonClass: DeadLetterRecord['reasonClass'], field: string, value: Buffer | null, headers?: Message['headers']): Planted {
  return { message: { key: `bad-${field}`, value, headers }, reasonClass, field };
}

// One partition's records: ordinary spans with every kind of bad record mixed in.
function partitionRecords(p: number): Planted[] {
  const t = (ms: number): number => T0 + p * 7 + ms;
  const secretSpan = (overrides: Partial<LlmSpan>): LlmSpan => makeSpan({ startTime: t(1000), inputText: SECRET, outputText: SECRET, ...overrides });
  const encodedSecret = codec.type.toBuffer(secretSpan({}));
  const noService = writerWith((f) => f.splice(f.findIndex((x) => x.name === 'service'), 1));
  const stringDuration = writerWith((f) => void (f.find((x) => x.name === 'durationMs')!.type = 'string'));
  const extraKind = writerWith((f) => {
    const kind = f.find((x) => x.name === 'kind')!.type as { symbols: string[] };
    kind.symbols = [...kind.symbols, 'AGENT'];
  });
  const withoutService: Partial<LlmSpan> = secretSpan({});
  delete withoutService.service;
  const out: Planted[] = [];
  for (let i = 0; i < 40; i++) out.push(good({ startTime: t(i * 500), durationMs: 200 + i, model: 'gpt-4o' }));
  out.push(
    bad('UNDECODABLE', 'LlmSpan', Buffer.from(`not avro at all ${SECRET}`)),
    bad('UNDECODABLE', 'LlmSpan', new FeedbackCodec().encode({ feedbackId: 'f1', timestamp: t(0), type: 'THUMBS_DOWN', comment: SECRET })),
    bad('UNDECODABLE', 'LlmSpan', noService.toBuffer(withoutService)),
    bad('UNDECODABLE', 'LlmSpan', stringDuration.toBuffer({ ...secretSpan({}), durationMs: 'slow' })),
    bad('UNDECODABLE', 'LlmSpan', Buffer.concat([encodedSecret, Buffer.from([0])])),
    bad('INVALID_FIELD', 'service', codec.type.toBuffer({ ...secretSpan({}), service: '' })),
    bad('INVALID_FIELD', 'durationMs', codec.type.toBuffer(secretSpan({ durationMs: -3 }))),
    bad('INVALID_FIELD', 'durationMs', codec.type.toBuffer(secretSpan({ durationMs: Number.NaN }))),
    bad('INVALID_FIELD', 'ttftMs', codec.type.toBuffer(secretSpan({ ttftMs: Number.POSITIVE_INFINITY }))),
    bad('INVALID_FIELD', 'kind', extraKind.toBuffer({ ...secretSpan({}), kind: 'AGENT' })),
    bad('INVALID_FIELD', 'service', codec.type.toBuffer(secretSpan({ service: 's'.repeat(10 * 1024 * 1024) }))),
    bad('EVENT_TIME', 'startTime', codec.type.toBuffer(secretSpan({ startTime: Date.UTC(1999, 5, 1) }))),
    bad('EVENT_TIME', 'startTime', codec.type.toBuffer(secretSpan({ startTime: Date.UTC(2100, 0, 1) }))),
    bad('EVENT_TIME', 'startTime', codec.type.toBuffer(secretSpan({ startTime: T0 - 3 * 365 * 24 * HOUR }))),
    bad('EMPTY', 'value', null),
    bad('WRONG_SCHEMA', 'vigil-schema', encodedSecret, { 'vigil-schema': 'vigil.v1.FeedbackEvent' }),
  );
  // Absurd but valid: processed, clamped or flagged.
  out.push(
    good({ startTime: t(21_000), durationMs: 5 * HOUR, ttftMs: 2 * HOUR }),
    good({ startTime: t(21_500), inputTokens: 2_000_000_000, outputTokens: 50_000_000, costUsd: 1e12 }),
    good({ startTime: t(22_000), outputText: `${SECRET} ${'y'.repeat(10 * 1024 * 1024)}`, expectedFormat: 'json' }),
  );
  for (let i = 0; i < 40; i++) out.push(good({ startTime: t(30_000 + i * 500), durationMs: 300 + i, model: 'gpt-4o' }));
  return out;
}

// A flood of distinct service names within one sub-window: more than the store keeps per sub-window.
function floodRecords(): Planted[] {
  const out: Planted[] = [];
  for (let i = 0; i < FLOOD; i++) out.push(good({ startTime: T0 + 60_000 + (i % 9_000), service: `flood-${i}`, durationMs: 50 }));
  out.push(good({ startTime: T0 + 120_000, service: 'closer' }));
  return out;
}

async function readDeadLetters(topic: string, count: number, timeoutMs: number): Promise<DeadLetterRecord[]> {
  const groupId = randomName('vigil-test-dlq-reader');
  const consumer = testKafka('vigil-test-dlq-reader').consumer({ groupId, allowAutoTopicCreation: false });
  const dlq = new DeadLetterCodec();
  const out: DeadLetterRecord[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`got ${out.length} of ${count} dead letters`)), timeoutMs);
      consumer
        .run({
          eachMessage: ({ message }) => {
            assert.equal(message.headers?.['vigil-schema']?.toString(), 'vigil.v1.DeadLetter');
            out.push(dlq.decode(message.value!));
            if (out.length >= count) {
              clearTimeout(timer);
              // A moment for any record beyond the expected ones to show up.
              setTimeout(resolve, 2000);
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
    return out;
  } finally {
    await consumer.disconnect();
    await deleteGroups([groupId]);
  }
}

describe('bad input through vigil run and the dead-letter topic', () => {
  const traces = randomName('vigil-it-bad-traces');
  const alerts = randomName('vigil-it-bad-alerts');
  const deadLetters = randomName('vigil-it-dlq');
  const groupId = randomName('vigil-it-bad-group');
  const expected = new Map<string, Planted>();
  let goodCount = 0;
  let vigil: VigilProcess;

  before(async () => {
    const admin = testKafka('vigil-test-admin').admin();
    await admin.connect();
    // The traces topic takes the 10 MB records; the dead-letter topic keeps the default 1 MB limit.
    await admin.createTopics({ topics: [{ topic: traces, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: String(32 * 1024 * 1024) }] }], waitForLeaders: true });
    await admin.disconnect();
    await createTopic(alerts, 1);
    await createTopic(deadLetters, 1);
    vigil = await startVigilRun(
      [
        'kafka:',
        `  brokers: [${kafkaBrokers().join(', ')}]`,
        `  groupId: ${groupId}`,
        `  tracesTopic: ${traces}`,
        `  alertsTopic: ${alerts}`,
        `  deadLetterTopic: ${deadLetters}`,
        '  fromBeginning: true',
        'windows: { slide: 10s, window: 1m, retention: 10m, allowedLateness: 5s, idleAdvanceAfter: 1h }',
        'rules: rules.yaml',
        'api: { host: 127.0.0.1, port: 0 }',
        'log: { level: debug }',
      ].join('\n'),
      { 'rules.yaml': 'rules: []\n' },
    );
  });

  after(async () => {
    await vigil?.stop();
    await deleteTopics([traces, alerts, deadLetters]);
    await deleteGroups([groupId]);
  });

  it('a stream with bad records of every kind mixed in: the DLQ holds exactly those records, the rest are processed, nothing crashes', { timeout: 240_000 }, async () => {
    for (const p of [0, 1]) {
      // Each partition ends with a record a minute past the flood, so both close the flood's windows.
      const records = p === 0 ? [...partitionRecords(0), ...floodRecords()] : [...partitionRecords(1), good({ startTime: T0 + 120_000, service: 'closer' })];
      // One send per chunk, so each record's offset is the send's base offset plus its index.
      for (let start = 0; start < records.length; start += 2000) {
        const chunk = records.slice(start, start + 2000);
        const [meta] = await produceRaw(traces, chunk.map((r) => ({ ...r.message, partition: p })));
        chunk.forEach((r, i) => {
          if (r.reasonClass !== undefined) expected.set(`${p}:${Number(meta.baseOffset) + i}`, r);
          else goodCount++;
        });
      }
    }
    const received = await readDeadLetters(deadLetters, expected.size, 120_000);

    // Exactly the planted records, each with its class, field, position and original bytes.
    assert.deepEqual(received.map((d) => `${d.partition}:${d.offset}`).sort(), [...expected.keys()].sort());
    for (const d of received) {
      const planted = expected.get(`${d.partition}:${d.offset}`)!;
      assert.equal(d.sourceTopic, traces);
      assert.equal(d.consumerGroup, groupId);
      assert.equal(d.reasonClass, planted.reasonClass, `${d.partition}:${d.offset} ${d.reason}`);
      assert.equal(d.field, planted.field, d.reason);
      assert.ok(!d.reason.includes(SECRET), d.reason);
      assert.equal(d.key?.toString(), planted.message.key);
      const original = planted.message.value as Buffer | null;
      if (original === null) assert.equal(d.value, null);
      else if (original.length <= 512 * 1024 - 64) assert.deepEqual(d.value, original);
      else {
        // The 10 MB record is cut to the cap but says how big it was.
        assert.equal(d.truncated, true);
        assert.equal(d.valueSize, original.length);
        assert.deepEqual(d.value, original.subarray(0, d.value!.length));
      }
    }

    // Everything else was processed, and the engine is still up and answering.
    const status = await waitFor('every good record processed', async () => {
      const s = await vigil.status();
      return s.eventsIn === goodCount ? s : undefined;
    }, 60_000);
    assert.equal(status.deadLetters, expected.size);
    const byClass = (cls: string): number => [...expected.values()].filter((r) => r.reasonClass === cls).length;
    assert.deepEqual(status.deadLettersByReason, {
      undecodable: byClass('UNDECODABLE'),
      wrong_schema: byClass('WRONG_SCHEMA'),
      invalid_field: byClass('INVALID_FIELD'),
      event_time: byClass('EVENT_TIME'),
      empty: byClass('EMPTY'),
      unexpected: 0,
    });
    assert.deepEqual(status.adjusted, { clamped: 2, truncated: 2, flagged: 2 });
    assert.equal(status.sinkBacklog, 0);
    assert.equal((await fetch(`${vigil.api}/healthz`)).status, 200);
    assert.equal(vigil.child.exitCode, null);

    // The flood of distinct services ends in the overflow aggregate, not in 10 500 groups — once the
    // whole group has closed the flood's sub-windows.
    await waitFor('the group closed the flood', async () => ((await vigil.status()).watermark ?? 0) >= T0 + 80_000 ? true : undefined, 60_000);
    const res = await fetch(`${vigil.api}/v1/percentiles?groupBy=service&window=10m`);
    const groups = ((await res.json()) as { groups: { key: string; count: number }[] }).groups;
    assert.ok(groups.length <= 10_000 + 10, `${groups.length} groups`);
    assert.ok((groups.find((g) => g.key === 'service=(overflow)')?.count ?? 0) >= FLOOD - 10_000);

    // The secret prompt of the bad records never reached a log line.
    assert.ok(!vigil.stderr().includes(SECRET), 'the log holds prompt text');
    assert.match(vigil.stderr(), /"msg":"dead letters in batch"/);
  });

  it('commits every partition, dead letters included, and exits 0 on SIGTERM', async () => {
    const code = await vigil.stop();
    assert.equal(code, 0, vigil.stderr().slice(-2000));
    // Partition tasks commit their restore offset (where a new owner replays from): never past the
    // end, and the end itself where no event of the recovery horizon needs replaying.
    const committed = await committedOffsets(groupId, traces);
    const ends = await endOffsets(traces);
    assert.deepEqual([...committed.keys()].sort(), [...ends.keys()].sort());
    for (const [partition, end] of ends) assert.ok(BigInt(committed.get(partition)!) <= BigInt(end), `partition ${partition}`);
  });
});
