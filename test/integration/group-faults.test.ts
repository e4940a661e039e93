import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Partitioners, type Message } from 'kafkajs';
import { EvalCodec, FeedbackCodec, SpanCodec } from '../../src/codec/index.js';
import { DEFAULT_INCIDENTS, type DemoEvents } from '../../src/demo/traffic-generator.js';
import { liveDemoEvents } from '../helpers/live-demo-events.js';
import type { AlertEvent } from '../../src/model/index.js';
import { ROOT } from '../helpers/cli.js';
import { createTopic, deleteGroups, deleteTopics, endOffsets, kafkaBrokers, randomName, readAlerts, testKafka } from '../helpers/kafka-test-env.js';
import { startVigilRun, waitFor, type VigilProcess } from '../helpers/vigil-process.js';

const START = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const DURATION_MS = 30 * MINUTE;
const PARTITIONS = 12;

/** The group-wide answers compared between runs: spans and requests, every stat the API has for them. */
const QUERIES = [
  '/v1/signals/latency?groupBy=model&window=30m&stats=count,min,max,mean,p50,p95,p99',
  '/v1/signals/ttft?groupBy=model&window=30m&stats=count,p50,p99',
  '/v1/signals/errors?groupBy=service&window=30m&stats=count,error,timeout,rate_limit,retries,fallback',
  '/v1/signals/cost?groupBy=model&window=30m&stats=count,usd,input_tokens,output_tokens',
  '/v1/signals/output?groupBy=model&window=30m&stats=count,json_expected,json_valid,finish_length',
  '/v1/signals/security?groupBy=service&window=30m&stats=count,inputs_scanned,injection',
  '/v1/signals/output_tokens?groupBy=model&window=10m&stats=count,sum,p99',
  '/v1/signals/requests?groupBy=service&window=30m&stats=count,failed,degraded,incomplete,injection,pii,cost_anomaly',
  '/v1/signals/request_cost?groupBy=service&window=30m&stats=count,sum,p50,p99',
  '/v1/signals/request_latency?groupBy=service&window=30m&stats=count,p99',
];

function configOf(id: string, groupId: string, alerts: string): string {
  return [
    'kafka:',
    `  brokers: [${kafkaBrokers().join(', ')}]`,
    `  groupId: ${groupId}`,
    `  tracesTopic: ${id}-traces`,
    `  feedbackTopic: ${id}-feedback`,
    `  evalsTopic: ${id}-evals`,
    `  alertsTopic: ${alerts}`,
    '  fromBeginning: true',
    // Recorded traffic: event time moves with the data only, so both runs close the same windows.
    'windows: { idleAdvanceAfter: 1h }',
    `rules: ${ROOT}/rules/demo-rules.yaml`,
    'api: { host: 127.0.0.1, port: 0 }',
    'log: { level: info }',
  ].join('\n');
}

/** The events of minutes [from, to), as messages keyed the way partitioned state needs: user id, else trace id. */
function messagesOf(events: DemoEvents, from: number, to: number): { traces: Message[]; feedback: Message[]; evals: Message[] } {
  const spans = new SpanCodec();
  const feedback = new FeedbackCodec();
  const evals = new EvalCodec();
  const inRange = (t: number): boolean => t >= START + from * MINUTE && t < START + to * MINUTE;
  return {
    traces: events.spans.filter((s) => inRange(s.startTime)).map((s) => ({ key: s.userId ?? s.traceId, value: spans.encode(s) })),
    feedback: events.feedback.filter((f) => inRange(f.timestamp)).map((f) => ({ key: f.userId ?? f.traceId, value: feedback.encode(f) })),
    evals: events.evals.filter((e) => inRange(e.timestamp)).map((e) => ({ key: e.traceId, value: evals.encode(e) })),
  };
}

async function produce(id: string, batch: { traces: Message[]; feedback: Message[]; evals: Message[] }): Promise<void> {
  const producer = testKafka('vigil-group-producer').producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (const [topic, messages] of [[`${id}-traces`, batch.traces], [`${id}-feedback`, batch.feedback], [`${id}-evals`, batch.evals]] as const) {
      for (let i = 0; i < messages.length; i += 2000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 2000) });
    }
  } finally {
    await producer.disconnect();
  }
}

async function allAlerts(topic: string): Promise<AlertEvent[]> {
  const total = [...(await endOffsets(topic)).values()].reduce((n, o) => n + Number(o), 0);
  return total === 0 ? [] : (await readAlerts(topic, total, 60_000)).map((r) => r.alert);
}

async function answers(api: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const q of QUERIES) {
    const res = await fetch(api + q);
    const body = await res.text();
    assert.equal(res.status, 200, `${q}: ${body}`);
    out[q] = JSON.parse(body);
  }
  return out;
}

/** Waits until `vigil`'s group has closed its windows as far as the data goes: no move for 10 s past `from`. */
async function settled(vigil: VigilProcess, from: number): Promise<number> {
  let last = -1;
  let since = Date.now();
  return waitFor(
    'the group closed its windows up to the end of the data',
    async () => {
      const w = (await vigil.status()).watermark ?? 0;
      if (w !== last) [last, since] = [w, Date.now()];
      return w >= from && Date.now() - since > 10_000 ? w : undefined;
    },
    300_000,
  );
}

describe('a consumer group of vigil run processes survives a crash, a restart and a scale-out', () => {
  const id = randomName('vigil-group');
  const reference = { groupId: `${id}-reference`, alerts: `${id}-alerts-reference` };
  const faulty = { groupId: `${id}-faulty`, alerts: `${id}-alerts-faulty` };
  const events = liveDemoEvents({ seed: 42, startTime: START }, DURATION_MS);
  const processes: VigilProcess[] = [];

  before(async () => {
    for (const t of ['traces', 'feedback', 'evals']) await createTopic(`${id}-${t}`, PARTITIONS);
    await createTopic(reference.alerts, 1);
    await createTopic(faulty.alerts, 1);
  });

  after(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await deleteTopics([`${id}-traces`, `${id}-feedback`, `${id}-evals`, reference.alerts, faulty.alerts, `${reference.groupId}-vigil-partials`, `${faulty.groupId}-vigil-partials`]);
    await deleteGroups([reference.groupId, faulty.groupId]);
  });

  it('three members, one killed and restarted, a fourth joining: the same aggregates and alerts as a fault-free run', { timeout: 900_000 }, async () => {
    // The faulty run: three members while the first third of the data arrives.
    const start = (): Promise<VigilProcess> => startVigilRun(configOf(id, faulty.groupId, faulty.alerts));
    const members = await Promise.all([start(), start(), start()]);
    processes.push(...members);
    await produce(id, messagesOf(events, 0, 10));
    await waitFor('the members applied the first part', async () => {
      const s = await Promise.all(members.map((m) => m.status()));
      return s.reduce((n, x) => n + x.eventsIn, 0) > 0.8 * messagesOf(events, 0, 10).traces.length ? true : undefined;
    }, 120_000);

    // Mid-stream, one member dies without a word.
    await produce(id, messagesOf(events, 10, 16));
    members[1].child.kill('SIGKILL');
    await produce(id, messagesOf(events, 16, 22));
    // It comes back later; then a fourth member joins.
    await new Promise((r) => setTimeout(r, 5000));
    const restarted = await start();
    processes.push(restarted);
    await produce(id, messagesOf(events, 22, 26));
    const fourth = await start();
    processes.push(fourth);
    await produce(id, messagesOf(events, 26, 31));
    const live = [members[0], members[2], restarted, fourth];
    const nearEnd = START + DURATION_MS - 2 * MINUTE;
    for (const m of live) await settled(m, nearEnd);

    // The fault-free run over the same data: one member, undisturbed.
    const single = await startVigilRun(configOf(id, reference.groupId, reference.alerts));
    processes.push(single);
    const end = await settled(single, nearEnd);

    // Both closed windows as far as the data goes, and every member answers for the whole group.
    const expected = await answers(single.api);
    // On a difference, say from which minute back the counts part (the deepEqual below shows what).
    const counts = async (api: string): Promise<number[]> => {
      const out: number[] = [];
      for (let m = 1; m <= 30; m++) {
        const r = (await (await fetch(`${api}/v1/signals/latency?window=${m}m&stats=count`)).json()) as { groups: { count: number }[] };
        out.push(r.groups[0]?.count ?? 0);
      }
      return out;
    };
    const baseline = await counts(single.api);
    for (const m of live) {
      const mine = await counts(m.api);
      const first = mine.findIndex((c, i) => c !== baseline[i]);
      if (first >= 0) {
        console.log(`# member ${live.indexOf(m)}: span counts part ${first + 1} min back: ${mine.map((c, i) => c - baseline[i]).join(' ')}`);
        for (const [i, p] of processes.entries()) writeFileSync(join(tmpdir(), `vigil-group-faults-${i}.log`), p.stderr());
      }
    }
    for (const m of live) {
      const status = await m.status();
      assert.equal(status.watermark, end, 'the same last boundary');
      assert.deepEqual(await answers(m.api), expected, `member ${live.indexOf(m)} answers as the fault-free run`);
    }

    // Alerts: every one of the fault-free run, each (id, state) at least once, nothing else; a
    // duplicate only ever repeats an id.
    const want = await allAlerts(reference.alerts);
    const got = await allAlerts(faulty.alerts);
    const key = (a: AlertEvent): string => `${a.alertId}|${a.state}|${a.ruleName}|${a.groupKey}|${a.windowEnd}`;
    assert.deepEqual([...new Set(got.map(key))].sort(), [...new Set(want.map(key))].sort());
    for (const incident of DEFAULT_INCIDENTS) {
      const mine = want.filter((a) => a.ruleName === incident.rule && a.groupKey === incident.groupKey);
      assert.deepEqual(mine.map((a) => a.state), ['FIRING', 'RESOLVED'], `${incident.name} in the fault-free run`);
    }
    console.log(`# group faults: ${want.length} alerts in the fault-free run, ${got.length} (${got.length - new Set(got.map(key)).size} repeated) in the faulty one`);
  });
});
