import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { VigilError } from '../../src/errors.js';
import type { AlertEvent } from '../../src/model/index.js';
import { JsonlAlertSink } from '../../src/sinks/jsonl-alert-sink.js';
import { sampleAlert } from '../codec/span-fixtures.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-jsonl-sink-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function parseLines(text: string): AlertEvent[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AlertEvent);
}

describe('JsonlAlertSink', () => {
  it('writes one JSON line per alert to a file and flushes on close', async () => {
    const path = join(dir, 'alerts.jsonl');
    const sink = new JsonlAlertSink({ path });
    const alerts = [sampleAlert({ alertId: 'a' }), sampleAlert({ alertId: 'b', state: 'RESOLVED' })];
    await sink.send(alerts);
    await sink.send([]);
    await sink.send([sampleAlert({ alertId: 'c' })]);
    await sink.close();
    await sink.close();
    assert.deepEqual(parseLines(await readFile(path, 'utf8')), [...alerts, sampleAlert({ alertId: 'c' })]);
  });

  it('appends to an existing file when asked', async () => {
    const path = join(dir, 'append.jsonl');
    await writeFile(path, JSON.stringify(sampleAlert({ alertId: 'old' })) + '\n');
    const sink = new JsonlAlertSink({ path, append: true });
    await sink.send([sampleAlert({ alertId: 'new' })]);
    await sink.close();
    assert.deepEqual(
      parseLines(await readFile(path, 'utf8')).map((a) => a.alertId),
      ['old', 'new'],
    );
  });

  it('writes to a given stream and leaves it open on close', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    const sink = new JsonlAlertSink({ stream });
    await sink.send([sampleAlert()]);
    await sink.close();
    assert.equal(stream.writableEnded, false);
    assert.deepEqual(parseLines(text), [sampleAlert()]);
  });

  it('refuses sends after close with VIGIL_STOPPED', async () => {
    const sink = new JsonlAlertSink({ stream: new PassThrough() });
    await sink.close();
    await assert.rejects(sink.send([sampleAlert()]), (error: unknown) => error instanceof VigilError && error.code === 'VIGIL_STOPPED');
  });

  it('rejects with a retriable VIGIL_SINK_FAILED when the file cannot be written', async () => {
    const path = join(dir, 'no-such-dir', 'alerts.jsonl');
    const sink = new JsonlAlertSink({ path });
    await assert.rejects(sink.send([sampleAlert()]), (error: unknown) => {
      assert.ok(error instanceof VigilError);
      assert.equal(error.code, 'VIGIL_SINK_FAILED');
      assert.equal(error.retriable, true);
      assert.match(error.message, /ENOENT/);
      assert.ok(error.message.includes(path));
      return true;
    });
    await assert.rejects(sink.close(), (error: unknown) => error instanceof VigilError && error.code === 'VIGIL_SINK_FAILED');
  });
});
