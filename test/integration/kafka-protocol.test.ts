/**
 * kafkajs against the broker of `KAFKA_BROKERS`, whatever its version: CI runs this file against
 * Kafka 3.9 and 4.x (README, "Kafka versions"). kafkajs picks each request's version as the lower
 * of its newest implementation and the broker's newest, and never checks the broker's oldest, so a
 * broker that dropped old versions (Kafka 4.0 did, KIP-896) would fail only at the first such
 * request; the first test checks every version up front, the second exercises the calls Vigil and
 * its tests make.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { Partitioners } from 'kafkajs';
import { probeBroker } from '../../scripts/kafka-broker.mjs';
import { createTopic, deleteGroups, deleteTopics, kafkaBrokers, randomName, testKafka } from '../helpers/kafka-test-env.js';

const require = createRequire(import.meta.url);
// kafkajs' own tables: which versions of each request it implements, and the requests' API keys.
const { requests } = require('kafkajs/src/protocol/requests/index.js') as { requests: Record<string, { versions: string[] }> };
const apiKeys = require('kafkajs/src/protocol/requests/apiKeys.js') as Record<string, number>;

/** The requests kafkajs sends for what Vigil does: produce idempotently, consume in a group, administer topics. */
const USED = [
  'Produce', 'Fetch', 'ListOffsets', 'Metadata', 'OffsetCommit', 'OffsetFetch', 'GroupCoordinator', 'JoinGroup',
  'Heartbeat', 'LeaveGroup', 'SyncGroup', 'DescribeGroups', 'ListGroups', 'ApiVersions', 'CreateTopics', 'DeleteTopics',
  'InitProducerId', 'AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn', 'TxnOffsetCommit', 'DeleteGroups', 'DescribeConfigs',
  'CreatePartitions',
];

const topics: string[] = [];
const groups: string[] = [];

after(async () => {
  if (!process.env.KAFKA_BROKERS) return;
  await deleteGroups(groups);
  await deleteTopics(topics);
});

describe('kafkajs against this broker version', () => {
  it('negotiates, for every request Vigil needs, a version the broker still supports', async () => {
    const { apiVersions } = await probeBroker(kafkaBrokers()[0]);
    const problems: string[] = [];
    for (const name of USED) {
      const implemented = requests[name].versions.map(Number);
      const range = apiVersions.get(apiKeys[name]);
      if (range === undefined) {
        problems.push(`${name}: not served by the broker`);
        continue;
      }
      const chosen = Math.min(Math.max(...implemented), range.max);
      if (chosen < range.min || !implemented.includes(chosen)) {
        problems.push(`${name}: kafkajs would send v${chosen}, the broker serves v${range.min}..v${range.max}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('produces idempotently and in a transaction, consumes in a group, commits, and answers offsets by time', { timeout: 120_000 }, async () => {
    const kafka = testKafka('vigil-it-protocol');
    const topic = randomName('vigil-it-protocol');
    const groupId = randomName('vigil-it-protocol-group');
    topics.push(topic);
    groups.push(groupId);
    await createTopic(topic, 2);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const t0 = Date.now() - 60_000;
    try {
      await producer.send({ topic, acks: -1, messages: [0, 1, 2, 3].map((i) => ({ partition: 0, value: `m${i}`, timestamp: String(t0 + i * 10_000) })) });
    } finally {
      await producer.disconnect();
    }
    const txProducer = kafka.producer({ transactionalId: randomName('vigil-it-tx'), idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await txProducer.connect();
    try {
      const tx = await txProducer.transaction();
      await tx.send({ topic, messages: [{ partition: 1, value: 'tx' }] });
      await tx.commit();
    } finally {
      await txProducer.disconnect();
    }

    const admin = kafka.admin();
    await admin.connect();
    try {
      // ListOffsets by timestamp: the first message at or after t0 + 15 s is offset 2.
      const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, t0 + 15_000);
      assert.equal(byTime.find((p) => p.partition === 0)?.offset, '2');

      const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
      const seen: string[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`consumed ${seen.length} of 5`)), 60_000);
          consumer
            .run({
              eachMessage: async ({ message }) => {
                seen.push(message.value?.toString() ?? '');
                if (seen.length === 5) {
                  clearTimeout(timer);
                  resolve();
                }
              },
            })
            .catch(reject);
        });
        const described = await admin.describeGroups([groupId]);
        assert.equal(described.groups[0]?.state, 'Stable');
        await consumer.commitOffsets([{ topic, partition: 0, offset: '4' }]);
      } finally {
        await consumer.disconnect();
      }
      assert.deepEqual([...seen].sort(), ['m0', 'm1', 'm2', 'm3', 'tx']);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      assert.equal(committed.partitions.find((p) => p.partition === 0)?.offset, '4');
    } finally {
      await admin.disconnect();
    }
  });
});
