import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { kafkaClient, kafkaLogCreator } from '../../src/sources/kafka-client.js';

function capture(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('kafkaLogCreator', () => {
  it('forwards an entry with its level, message and locating fields only', () => {
    const { logger, lines } = capture();
    const log = kafkaLogCreator(logger)(logLevel.WARN);
    const error = new Error('Connection refused');
    log({
      namespace: 'Runner',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { timestamp: 'now', message: 'Error when calling eachBatch', topic: 'spans', partition: 3, offset: '17', stack: error.stack, error, payload: 'secret' },
    });
    log({ namespace: 'Connection', level: logLevel.WARN, label: 'WARN', log: { timestamp: 'now', message: 'slow', broker: 'b:9092' } });
    const [first, second] = lines();
    assert.equal(first.level, 50);
    assert.equal(first.msg, 'Error when calling eachBatch');
    assert.equal(first.kafkajs, 'Runner');
    assert.equal(first.topic, 'spans');
    assert.equal(first.partition, 3);
    assert.equal(first.offset, '17');
    assert.equal(first.error, 'Connection refused');
    assert.equal('stack' in first, false);
    assert.equal('payload' in first, false);
    assert.equal(second.level, 40);
    assert.equal(second.broker, 'b:9092');
  });
});

describe('kafkaClient', () => {
  it('returns a given kafkajs client as is', () => {
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    assert.equal(kafkaClient({ kafka }, pino({ level: 'silent' }), 'x'), kafka);
  });

  it('builds a client from a broker list', () => {
    assert.ok(kafkaClient({ brokers: ['127.0.0.1:1'] }, pino({ level: 'silent' }), 'x') instanceof Kafka);
  });
});
