import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatTailLine } from '../../src/cli/alert-tail-format.js';
import { AlertCodec } from '../../src/codec/avro-codec.js';
import type { AlertEvent } from '../../src/model/index.js';
import { alertMessageKey } from '../../src/sinks/kafka-alert-sink.js';
import { sampleAlert } from '../codec/span-fixtures.js';
import { ROOT } from '../helpers/cli.js';
import { startHttpTarget, type HttpTarget } from '../helpers/http-target.js';
import { committedOffsets, createTopic, deleteGroups, deleteTopics, kafkaBrokers, produceRaw, randomName, testKafka } from '../helpers/kafka-test-env.js';
import { waitFor } from '../helpers/vigil-process.js';

const codec = new AlertCodec();

/** A `vigil` child process whose output is collected as it comes. */
interface Cli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` and resolves with the exit code (SIGKILL after 60 s). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function startCli(args: string[]): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const [code] = (await exited) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}

function alertsSeries(n: number): AlertEvent[] {
  return Array.from({ length: n }, (_, i) =>
    sampleAlert({ alertId: `episode-${i}`, state: i % 2 === 0 ? 'FIRING' : 'RESOLVED', windowEnd: sampleAlert().windowEnd + i * 10_000, message: `alert number ${i}` }),
  );
}

async function produceAlerts(topic: string, alerts: readonly AlertEvent[]): Promise<void> {
  await produceRaw(topic, alerts.map((a) => ({ key: alertMessageKey(a), value: codec.encode(a) })));
}

describe('vigil alerts against a real Kafka broker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-alerts-cli-'));
  const topics: string[] = [];
  const groups: string[] = [];
  const children: Cli[] = [];
  const servers: HttpTarget[] = [];

  before(() => void kafkaBrokers());
  after(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    await Promise.all(servers.map((s) => s.close()));
    await deleteGroups(groups);
    await deleteTopics(topics);
  });

  function writeConfig(name: string, topic: string, extra = ''): string {
    const file = join(dir, name);
    writeFileSync(file, [`kafka:`, `  brokers: [${kafkaBrokers().join(', ')}]`, `  groupId: ${randomName('vigil-it-cli')}`, `  alertsTopic: ${topic}`, `log:`, `  level: info`, extra].join('\n'));
    return file;
  }

  it('tail prints each alert as one line: time, state, severity, rule, group, value vs threshold, message', async () => {
    const topic = randomName('vigil-it-tail');
    topics.push(topic);
    await createTopic(topic, 1);
    const alerts = alertsSeries(3);
    await produceAlerts(topic, alerts);
    await produceRaw(topic, [{ key: 'junk', value: Buffer.from('garbage') }]);
    const tail = startCli(['alerts', 'tail', '--config', writeConfig('tail.yaml', topic), '--from-beginning']);
    children.push(tail);
    await waitFor('three lines', async () => (tail.stdout().split('\n').filter(Boolean).length >= 3 ? true : undefined), 60_000);
    assert.equal(await tail.stop('SIGINT'), 0);
    assert.deepEqual(tail.stdout().split('\n').filter(Boolean), alerts.map((a) => formatTailLine(a)));
    assert.match(tail.stdout(), /^2025-01-01 00:00:00Z {2}FIRING {4}CRITICAL {2}latency-p99-high {2}model=gpt-4o,service=chat-api {2}p99 latency 2,413 \(> 2,000\) {2}alert number 0$/m);
    assert.match(tail.stderr(), /not an AlertEvent/);
    const group = /as group (vigil-tail-[0-9a-f]+)/.exec(tail.stderr())?.[1];
    assert.ok(group !== undefined);
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const { groups: listed } = await admin.listGroups();
      assert.ok(!listed.some((g) => g.groupId === group), 'the throwaway group is deleted on exit');
    } finally {
      await admin.disconnect();
    }
  });

  it('tail with --group resumes after what an earlier tail of that group showed', async () => {
    const topic = randomName('vigil-it-tail-group');
    const group = randomName('vigil-it-tail-g');
    topics.push(topic);
    groups.push(group);
    await createTopic(topic, 1);
    const alerts = alertsSeries(4);
    await produceAlerts(topic, alerts.slice(0, 2));
    const config = writeConfig('tail-group.yaml', topic);
    const first = startCli(['alerts', 'tail', '--config', config, '--from-beginning', '--group', group]);
    children.push(first);
    await waitFor('two lines', async () => (first.stdout().split('\n').filter(Boolean).length >= 2 ? true : undefined), 60_000);
    assert.equal(await first.stop('SIGINT'), 0);
    await produceAlerts(topic, alerts.slice(2));
    const second = startCli(['alerts', 'tail', '--config', config, '--from-beginning', '--group', group]);
    children.push(second);
    await waitFor('two more lines', async () => (second.stdout().split('\n').filter(Boolean).length >= 2 ? true : undefined), 60_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await second.stop('SIGINT'), 0);
    assert.deepEqual(second.stdout().split('\n').filter(Boolean), alerts.slice(2).map((a) => formatTailLine(a)));
  });

  it('forward killed after posting an alert but before committing it posts that one alert again, once, and loses none', async () => {
    const topic = randomName('vigil-it-fwd-kill');
    topics.push(topic);
    await createTopic(topic, 1);
    const alerts = alertsSeries(6);
    await produceAlerts(topic, alerts);
    const am = await startHttpTarget();
    servers.push(am);
    const group = randomName('vigil-it-fwd-kill-g');
    groups.push(group);
    const config = writeConfig(
      'forward.yaml',
      topic,
      ['forward:', `  groupId: ${group}`, '  fromBeginning: true', `  alertmanager: { url: "${am.url}" }`, '  retry: { attempts: 3, backoff: 50ms, maxBackoff: 200ms }'].join('\n'),
    );

    // The target takes the third alert in (it counts as delivered) and the forwarder dies before it
    // can see the 200, let alone commit: the worst moment, made deterministic.
    let resolveKilled: () => void = () => undefined;
    const killed = new Promise<void>((resolve) => (resolveKilled = resolve));
    am.respond((_req, index) => {
      if (index === 2) {
        // Requests come only once `first` below has started.
        first.child.kill('SIGKILL');
        resolveKilled();
      }
      return 200;
    });
    const first = startCli(['alerts', 'forward', '--config', config]);
    children.push(first);
    await killed;
    if (first.child.exitCode === null && first.child.signalCode === null) await once(first.child, 'exit');
    am.respond(() => 200);
    const committedAtKill = (await committedOffsets(group, topic)).get(0);
    assert.equal(committedAtKill, '2', 'the first two alerts were committed, the third was not');

    const second = startCli(['alerts', 'forward', '--config', config]);
    children.push(second);
    await waitFor('every alert acknowledged and committed', async () => ((await committedOffsets(group, topic)).get(0) === '6' ? true : undefined), 60_000);
    assert.equal(await second.stop('SIGTERM'), 0);

    const ids = am.accepted().map((r) => (r.body as { labels: Record<string, string> }[])[0].labels.alertId);
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const a of alerts) assert.ok((counts.get(a.alertId) ?? 0) >= 1, `${a.alertId} was delivered`);
    // Only the alert in flight at the kill comes twice (at-least-once); every other exactly once.
    const inFlight = alerts[2].alertId;
    assert.equal(counts.get(inFlight), 2);
    for (const a of alerts) if (a.alertId !== inFlight) assert.equal(counts.get(a.alertId), 1, `${a.alertId} once`);
    assert.match(second.stderr(), /"msg":"stopped"/);
  });

  it('forward refuses a config without a forward section, naming the key', async () => {
    const cli = startCli(['alerts', 'forward', '--config', writeConfig('no-forward.yaml', 'whatever')]);
    children.push(cli);
    const [code] = (await once(cli.child, 'exit')) as [number | null];
    assert.equal(code, 2);
    assert.match(cli.stderr(), /forward: required by vigil alerts forward/);
  });
});
