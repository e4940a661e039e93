import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { TrafficGenerator } from '../../src/demo/traffic-generator.js';
import type { AlertEvent } from '../../src/model/index.js';
import { writeSpanFile } from '../../src/sources/index.js';
import { runVigil } from '../helpers/cli.js';

const START = Date.UTC(2026, 0, 1);

describe('vigil replay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-replay-'));
  const avro = join(dir, 'spans.avro');
  const jsonl = join(dir, 'spans.jsonl');

  before(async () => {
    const spans = new TrafficGenerator({ seed: 11, startTime: START, requestsPerSecond: 30 }).spansUntil(START + 12 * 60_000);
    await writeSpanFile(avro, spans);
    await writeSpanFile(jsonl, spans);
  });

  it('a generated .avro file and the same data as .jsonl give identical, non-empty alerts', async () => {
    const outA = join(dir, 'a.jsonl');
    const outJ = join(dir, 'j.jsonl');
    const [a, j] = await Promise.all([runVigil(['replay', avro, '--alerts-out', outA]), runVigil(['replay', jsonl, '--alerts-out', outJ])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(j.code, 0, j.stderr);
    const alertsA = readFileSync(outA, 'utf8');
    const alertsJ = readFileSync(outJ, 'utf8');
    assert.equal(alertsJ, alertsA);
    const parsed = alertsA.trim().split('\n').map((l) => JSON.parse(l) as AlertEvent);
    assert.ok(parsed.some((x) => x.state === 'FIRING' && x.groupKey === 'model=claude-sonnet-4'));
    assert.ok(parsed.some((x) => x.state === 'FIRING' && x.groupKey === 'model=gemini-2.5-flash'));
    assert.match(a.stderr, /replay: done, [\d,]+ events/);
  });

  it('alerts go to stdout as JSON lines when no file is given, and replaying twice gives the same ids', async () => {
    const first = await runVigil(['replay', avro]);
    const second = await runVigil(['replay', avro]);
    assert.equal(first.code, 0, first.stderr);
    const ids = (s: string) => s.trim().split('\n').map((l) => (JSON.parse(l) as AlertEvent).alertId);
    assert.ok(ids(first.stdout).length > 0);
    assert.deepEqual(ids(second.stdout), ids(first.stdout));
  });

  it('bad lines go to the dead-letter file with their reason and position, and the rest is processed', async () => {
    const bad = join(dir, 'bad.jsonl');
    const good = readFileSync(jsonl, 'utf8').split('\n').slice(0, 100);
    good.splice(10, 0, '{not json');
    good.splice(20, 0, JSON.stringify({ ...JSON.parse(good[5]) as object, durationMs: -5, inputText: 'PRIVATE PROMPT' }));
    writeFileSync(bad, good.join('\n') + '\n');
    const dl = join(dir, 'dead.jsonl');
    const res = await runVigil(['replay', bad, '--dead-letters', dl]);
    assert.equal(res.code, 0, res.stderr);
    const dead = readFileSync(dl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { reason: string; position: number });
    assert.deepEqual(dead.map((d) => d.position), [11, 21]);
    assert.match(dead[1].reason, /durationMs/);
    assert.ok(!readFileSync(dl, 'utf8').includes('PRIVATE PROMPT'));
    assert.match(res.stderr, /100 events .* 2 dead letters/);
  });

  it('a missing file is a clear error naming the path', async () => {
    const res = await runVigil(['replay', join(dir, 'nope.avro')]);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /nope\.avro/);
  });
});
