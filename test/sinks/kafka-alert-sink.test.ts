import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { VigilError } from '../../src/errors.js';
import type { AlertEvent } from '../../src/model/index.js';
import { ALERT_CONTENT_TYPE, ALERT_SCHEMA_HEADER, KafkaAlertSink, alertMessageKey } from '../../src/sinks/kafka-alert-sink.js';
import { sampleAlert } from '../codec/span-fixtures.js';

// The broker round trip is covered by test/integration/kafka-source-sink.test.ts.
describe('KafkaAlertSink', () => {
  it('keys an alert by rule name and group key', () => {
    assert.equal(alertMessageKey(sampleAlert()), 'latency-p99-high|model=gpt-4o,service=chat-api');
  });

  it('labels messages as Avro AlertEvents', () => {
    assert.equal(ALERT_CONTENT_TYPE, 'avro/binary');
    assert.equal(ALERT_SCHEMA_HEADER, 'vigil.v1.AlertEvent');
  });

  it('rejects an alert that does not fit the schema before connecting to any broker', async () => {
    const sink = new KafkaAlertSink({ brokers: ['127.0.0.1:1'], topic: 'alerts', logger: pino({ level: 'silent' }) });
    const bad = { ...sampleAlert(), value: 'high' } as unknown as AlertEvent;
    await assert.rejects(sink.send([bad]), (error: unknown) => error instanceof VigilError && error.code === 'VIGIL_RECORD_INVALID' && error.details.field === 'value');
    await sink.close();
    await assert.rejects(sink.send([sampleAlert()]), (error: unknown) => error instanceof VigilError && error.code === 'VIGIL_STOPPED');
  });
});
