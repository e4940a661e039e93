import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SeededRandom } from '../../src/demo/random.js';
import type { LlmSpan } from '../../src/model/index.js';
import { ROOT } from '../helpers/cli.js';
import {
  committedOffsets,
  createTopic,
  deleteGroups,
  deleteTopics,
  endOffsets,
  kafkaBrokers,
  produceSpans,
  randomName,
  readAlerts,
} from '../helpers/kafka-test-env.js';
import { BASE_TIME, makeSpan } from '../helpers/span-factory.js';

const RULES = `
rules:
  - name: model-p99-latency
    signal: latency
    stat: p99
    groupBy: [model]
    window: 1m
    op: ">"
    threshold: 4000
    for: 20s
    severity: critical
`;

// Two models, 20 spans/s each over 8 minutes of event time, lognormal latencies; gpt-4o is 6x
// slower between minute 2 and minute 4.
function traffic(): LlmSpan[] {
  const rng = new SeededRandom(2026);
  const spans: LlmSpan[] = [];
  for (let t = 0; t < 8 * 60_000; t += 50) {
    const slow = t >= 2 * 60_000 && t < 4 * 60_000;
    spans.push(makeSpan({ startTime: BASE_TIME + t, model: 'gpt-4o', durationMs: Math.round(rng.lognormal(800, 0.5) * (slow ? 6 : 1) * 10) / 10 }));
    spans.push(makeSpan({ startTime: BASE_TIME + t + 7, model: 'claude-sonnet-4', provider: 'anthropic', durationMs: Math.round(rng.lognormal(1200, 0.4) * 10) / 10 }));
  }
  return spans;
}

function exactQuantile(sorted: number[], q: number): number {
  // The same definition the rank bound below is stated against: the value at rank ceil(q·n).
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('vigil run against a real Kafka broker', () => {
  const traces = randomName('vigil-it-traces');
  const alertsTopic = randomName('vigil-it-alerts');
  const groupId = randomName('vigil-it-group');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-run-'));
  const spans = traffic();
  let child: ChildProcess;
  let api = '';
  let stderr = '';

  before(async () => {
    await createTopic(traces, 3);
    await createTopic(alertsTopic, 1);
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    writeFileSync(
      join(dir, 'vigil.yaml'),
      [
        'kafka:',
        `  brokers: [${kafkaBrokers().join(', ')}]`,
        `  groupId: ${groupId}`,
        `  tracesTopic: ${traces}`,
        `  alertsTopic: ${alertsTopic}`,
        '  fromBeginning: true',
        'windows: { slide: 10s, window: 1m, retention: 10m, allowedLateness: 5s, idleAdvanceAfter: 1h }',
        'rules: rules.yaml',
        'api: { host: 127.0.0.1, port: 0 }',
        'log: { level: info }',
      ].join('\n'),
    );
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '--config', join(dir, 'vigil.yaml')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    api = await waitFor(
      'the query API address in the log',
      async () => {
        const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(stderr);
        return m ? m[1] : undefined;
      },
      60_000,
    );
    await waitFor('readiness', async () => ((await fetch(`${api}/readyz`)).status === 200 ? true : undefined), 60_000);
  });

  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await deleteTopics([traces, alertsTopic]);
    await deleteGroups([groupId]);
  });

  it('reads FIRING and then RESOLVED from the alert topic for the slowed model only, with one alertId', async () => {
    await produceSpans(traces, spans);
    const received = await readAlerts(alertsTopic, 2, 90_000);
    assert.deepEqual(
      received.map((r) => [r.alert.state, r.alert.groupKey, r.key]),
      [
        ['FIRING', 'model=gpt-4o', 'model-p99-latency|model=gpt-4o'],
        ['RESOLVED', 'model=gpt-4o', 'model-p99-latency|model=gpt-4o'],
      ],
    );
    assert.equal(received[0].alert.alertId, received[1].alert.alertId);
    assert.equal(received[0].headers['content-type'], 'avro/binary');
    assert.ok(received[0].alert.value > 4000);
  });

  it("the query API's p99 equals the exact p99 of the spans in that window within the digest's bound", async () => {
    const last = spans[spans.length - 1].startTime;
    await waitFor('all spans processed', async () => {
      const s = (await (await fetch(`${api}/v1/status`)).json()) as { eventsIn: number; maxEventTime: number };
      return s.eventsIn === spans.length && s.maxEventTime === last ? true : undefined;
    }, 60_000);
    for (const window of ['1m', '5m']) {
      const res = await fetch(`${api}/v1/percentiles?metric=latency&window=${window}&groupBy=model&q=0.5,0.99`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { window: { start: number; end: number }; groups: { labels: { model: string }; count: number; quantiles: Record<string, number> }[] };
      assert.equal(body.groups.length, 2);
      for (const g of body.groups) {
        const values = spans
          .filter((s) => s.model === g.labels.model && s.startTime >= body.window.start && s.startTime < body.window.end)
          .map((s) => s.durationMs)
          .sort((a, b) => a - b);
        assert.equal(g.count, values.length);
        for (const [name, q] of [['p50', 0.5], ['p99', 0.99]] as const) {
          const exact = exactQuantile(values, q);
          // Bound: relative error ≤ 1 % of the exact value, or the estimate lies between the exact
          // values at ranks q·n ± 0.5 % of n (the t-digest's rank error at these quantiles).
          const lo = values[Math.max(0, Math.floor((q - 0.005) * values.length) - 1)];
          const hi = values[Math.min(values.length - 1, Math.ceil((q + 0.005) * values.length))];
          const est = g.quantiles[name];
          assert.ok(
            Math.abs(est - exact) / exact <= 0.01 || (est >= lo && est <= hi),
            `${window} ${g.labels.model} ${name}: estimate ${est}, exact ${exact}, rank band [${lo}, ${hi}]`,
          );
        }
      }
    }
  });

  it('SIGTERM shuts down cleanly: exit 0 with every partition committed at its restore offset', async () => {
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, stderr.slice(-2000));
    // A partition task commits where its next owner must replay from to rebuild its state exactly
    // (the recovery horizon before its last checkpoint): at most the end, never unset.
    const committed = await committedOffsets(groupId, traces);
    const ends = await endOffsets(traces);
    assert.deepEqual([...committed.keys()].sort(), [...ends.keys()].sort());
    for (const [partition, end] of ends) {
      const offset = BigInt(committed.get(partition)!);
      assert.ok(offset >= 0n && offset <= BigInt(end), `partition ${partition}: committed ${offset}, end ${end}`);
    }
  });
});
