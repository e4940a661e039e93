import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssignerProtocol } from 'kafkajs';
import type { Assigner, Cluster, ConsumerConfig, GroupMember, Kafka, Logger as KafkaLogger, PartitionAssigner, PartitionMetadata } from 'kafkajs';
import { pino } from 'pino';
import {
  CO_PARTITIONED_ASSIGNER_NAME,
  coPartitioningProblems,
  createCoPartitionedAssigner,
  decodeOwnedTasks,
  encodeOwnedTasks,
} from '../../src/sources/copartitioned-assigner.js';
import * as sources from '../../src/sources/index.js';
import { KafkaSpanSource } from '../../src/sources/kafka-source.js';
import type { KafkaSpanSourceSettings } from '../../src/sources/kafka-source.js';

// The real group protocol is exercised by test/integration/copartitioned-assigner.test.ts; these
// tests pin the metadata codec and the leader's assign() against a stand-in cluster.

/** A cluster that knows only partition counts per topic, and counts metadata refreshes. */
function fakeCluster(counts: Record<string, number>): Cluster & { refreshes: number } {
  const cluster = {
    refreshes: 0,
    refreshMetadataIfNecessary(): Promise<void> {
      cluster.refreshes++;
      return Promise.resolve();
    },
    findTopicPartitionMetadata(topic: string): PartitionMetadata[] {
      return Array.from({ length: counts[topic] ?? 0 }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 1, replicas: [1], isr: [1] }));
    },
  };
  return cluster as unknown as Cluster & { refreshes: number };
}

/** A pino logger collecting its warnings. */
function capturingLogger(): { logger: pino.Logger; warnings: { msg: string; partitionCounts?: Record<string, number> }[] } {
  const warnings: { msg: string; partitionCounts?: Record<string, number> }[] = [];
  const logger = pino(
    { level: 'warn' },
    {
      write(line: string): void {
        warnings.push(JSON.parse(line) as { msg: string });
      },
    },
  );
  return { logger, warnings };
}

const kafkaLogger = { warn: () => undefined } as unknown as KafkaLogger;

/** One member's assigner instance, as kafkajs builds it for its consumer. */
function assignerFor(cluster: Cluster, ownedTasks: () => readonly number[], logger?: pino.Logger): Assigner {
  return createCoPartitionedAssigner({ ownedTasks, logger })({ cluster, groupId: 'group', logger: kafkaLogger });
}

/** The members as the leader sees them after a join: id and the metadata each member's protocol() sent. */
function joinedMembers(cluster: Cluster, owned: Record<string, number[]>, topics: string[]): GroupMember[] {
  return Object.entries(owned).map(([memberId, tasks]) => ({
    memberId,
    memberMetadata: assignerFor(cluster, () => tasks).protocol({ topics }).metadata,
  }));
}

/** Decoded assignments by member id. */
async function assignOf(assigner: Assigner, members: GroupMember[], topics: string[]): Promise<Record<string, Record<string, number[]>>> {
  const result = await assigner.assign({ members, topics });
  return Object.fromEntries(result.map(({ memberId, memberAssignment }) => [memberId, AssignerProtocol.MemberAssignment.decode(memberAssignment)?.assignment ?? {}]));
}

describe('createCoPartitionedAssigner', () => {
  it('is exported from the sources index with assignTasks and coPartitioningProblems', () => {
    assert.equal(typeof sources.createCoPartitionedAssigner, 'function');
    assert.equal(typeof sources.assignTasks, 'function');
    assert.equal(typeof sources.coPartitioningProblems, 'function');
  });

  it('round-trips the owned tasks through the userData encoding, sorted and deduplicated', () => {
    assert.deepEqual(decodeOwnedTasks(encodeOwnedTasks([5, 1, 3, 1])), [1, 3, 5]);
    assert.deepEqual(decodeOwnedTasks(encodeOwnedTasks([])), []);
    assert.deepEqual(decodeOwnedTasks(encodeOwnedTasks([0, 4095, 2 ** 31 - 1])), [0, 4095, 2 ** 31 - 1]);
    // Not non-negative int32s: dropped on encoding.
    assert.deepEqual(decodeOwnedTasks(encodeOwnedTasks([-1, 1.5, 2 ** 31, 2])), [2]);
    // Compact: version, count, one int32 per task.
    assert.equal(encodeOwnedTasks([0, 1, 2]).length, 2 + 4 + 3 * 4);
  });

  it('round-trips the owned tasks through the member metadata protocol() sends', () => {
    const assigner = assignerFor(fakeCluster({}), () => [4, 2]);
    const state = assigner.protocol({ topics: ['traces', 'feedback'] });
    assert.equal(state.name, CO_PARTITIONED_ASSIGNER_NAME);
    assert.equal(assigner.name, 'VigilCoPartitioned');
    assert.equal(assigner.version, 1);
    const metadata = AssignerProtocol.MemberMetadata.decode(state.metadata);
    assert.equal(metadata?.version, 1);
    assert.deepEqual(metadata?.topics, ['traces', 'feedback']);
    assert.deepEqual(decodeOwnedTasks(metadata?.userData), [2, 4]);
  });

  it('treats missing, truncated or garbage userData as owning nothing', () => {
    assert.deepEqual(decodeOwnedTasks(undefined), []);
    assert.deepEqual(decodeOwnedTasks(null), []);
    assert.deepEqual(decodeOwnedTasks(Buffer.alloc(0)), []);
    assert.deepEqual(decodeOwnedTasks(encodeOwnedTasks([1, 2, 3]).subarray(0, 10)), []);
    assert.deepEqual(decodeOwnedTasks(Buffer.from('{"tasks":[1,2]}')), []);
    const negative = encodeOwnedTasks([1]);
    negative.writeInt32BE(-7, 6);
    assert.deepEqual(decodeOwnedTasks(negative), []);
  });

  it('claims nothing when ownedTasks throws', () => {
    const assigner = assignerFor(fakeCluster({}), () => {
      throw new Error('not ready');
    }, pino({ level: 'silent' }));
    const metadata = AssignerProtocol.MemberMetadata.decode(assigner.protocol({ topics: ['traces'] }).metadata);
    assert.deepEqual(decodeOwnedTasks(metadata?.userData), []);
  });

  it('gives each member the same partition numbers on both topics of 6 partitions, covering 0…5 once', async () => {
    const topics = ['traces', 'feedback'];
    const cluster = fakeCluster({ traces: 6, feedback: 6 });
    const members = joinedMembers(cluster, { 'm-a': [], 'm-b': [], 'm-c': [] }, topics);
    const assignment = await assignOf(assignerFor(cluster, () => []), members, topics);
    assert.ok(cluster.refreshes >= 1, 'metadata refreshed if necessary');
    assert.deepEqual(Object.keys(assignment).sort(), ['m-a', 'm-b', 'm-c']);
    const all: number[] = [];
    for (const byTopic of Object.values(assignment)) {
      assert.deepEqual(Object.keys(byTopic).sort(), ['feedback', 'traces']);
      assert.deepEqual(byTopic.traces, byTopic.feedback);
      assert.equal(byTopic.traces.length, 2);
      all.push(...byTopic.traces);
    }
    assert.deepEqual(all.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5]);
  });

  it('keeps each member on the tasks its userData claims', async () => {
    const topics = ['traces', 'feedback', 'evals'];
    const cluster = fakeCluster({ traces: 6, feedback: 6, evals: 6 });
    const members = joinedMembers(cluster, { 'm-a': [5, 0], 'm-b': [1, 4], 'm-c': [3, 2] }, topics);
    const assignment = await assignOf(assignerFor(cluster, () => []), members, topics);
    assert.deepEqual(assignment, {
      'm-a': { traces: [0, 5], feedback: [0, 5], evals: [0, 5] },
      'm-b': { traces: [1, 4], feedback: [1, 4], evals: [1, 4] },
      'm-c': { traces: [2, 3], feedback: [2, 3], evals: [2, 3] },
    });
  });

  it('treats a member whose metadata is garbage as owning nothing and still assigns it tasks', async () => {
    const topics = ['traces'];
    const cluster = fakeCluster({ traces: 4 });
    const members: GroupMember[] = [
      ...joinedMembers(cluster, { 'm-a': [0, 1, 2, 3] }, topics),
      { memberId: 'm-b', memberMetadata: Buffer.from([0xff]) },
    ];
    const assignment = await assignOf(assignerFor(cluster, () => []), members, topics);
    assert.deepEqual(assignment, { 'm-a': { traces: [0, 1] }, 'm-b': { traces: [2, 3] } });
  });

  it('returns an assignment for every member, also one without tasks', async () => {
    const topics = ['traces'];
    const cluster = fakeCluster({ traces: 1 });
    const members = joinedMembers(cluster, { 'm-a': [], 'm-b': [] }, topics);
    const assignment = await assignOf(assignerFor(cluster, () => []), members, topics);
    assert.deepEqual(assignment, { 'm-a': { traces: [0] }, 'm-b': {} });
  });

  it('warns once about mismatched partition counts, naming the topics and counts, and still assigns every partition', async () => {
    const topics = ['traces', 'feedback'];
    const cluster = fakeCluster({ traces: 6, feedback: 4 });
    const { logger, warnings } = capturingLogger();
    const assigner = assignerFor(cluster, () => [], logger);
    const members = joinedMembers(cluster, { 'm-a': [], 'm-b': [] }, topics);
    const assignment = await assignOf(assigner, members, topics);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].msg, coPartitioningProblems({ traces: 6, feedback: 4 }));
    assert.match(warnings[0].msg, /traces has 6 partitions/);
    assert.match(warnings[0].msg, /feedback has 4 partitions/);
    assert.deepEqual(warnings[0].partitionCounts, { traces: 6, feedback: 4 });
    // Tasks 0…5; partitions 4 and 5 exist only on traces.
    assert.deepEqual(assignment, {
      'm-a': { traces: [0, 1, 2], feedback: [0, 1, 2] },
      'm-b': { traces: [3, 4, 5], feedback: [3] },
    });
    // The same problem at the next rebalance: no second warning.
    await assignOf(assigner, members, topics);
    assert.equal(warnings.length, 1);
  });

  it('warns nothing when the topics have equal partition counts', async () => {
    const topics = ['traces', 'feedback', 'evals'];
    const { logger, warnings } = capturingLogger();
    const cluster = fakeCluster({ traces: 3, feedback: 3, evals: 3 });
    await assignOf(assignerFor(cluster, () => [], logger), joinedMembers(cluster, { 'm-a': [] }, topics), topics);
    assert.equal(warnings.length, 0);
  });
});

describe('coPartitioningProblems', () => {
  it('finds no problem with one topic, no topics or equal counts', () => {
    assert.equal(coPartitioningProblems({}), null);
    assert.equal(coPartitioningProblems({ traces: 6 }), null);
    assert.equal(coPartitioningProblems({ traces: 6, feedback: 6, evals: 6 }), null);
  });

  it('names every topic with its partition count when the counts differ', () => {
    const message = coPartitioningProblems({ traces: 6, feedback: 6, evals: 1 });
    assert.ok(message !== null);
    assert.match(message, /not co-partitioned/);
    assert.match(message, /traces has 6 partitions, feedback has 6 partitions, evals has 1 partition\b/);
  });
});

describe('KafkaSpanSource partitionAssigners', () => {
  /** The consumer config a source hands kafkajs; the stand-in consumer fails to connect. */
  async function consumerConfigOf(extra: Partial<KafkaSpanSourceSettings>): Promise<ConsumerConfig> {
    let config: ConsumerConfig | undefined;
    const consumer = {
      events: { GROUP_JOIN: 'consumer.group_join', REBALANCING: 'consumer.rebalancing', CRASH: 'consumer.crash', STOP: 'consumer.stop' },
      on: () => () => undefined,
      connect: () => Promise.reject(new Error('no broker here')),
      disconnect: () => Promise.resolve(),
    };
    const kafka = {
      consumer(c: ConsumerConfig) {
        config = c;
        return consumer;
      },
    } as unknown as Kafka;
    const source = new KafkaSpanSource({ kafka, groupId: 'g', topic: 'traces', handler: () => Promise.resolve(), logger: pino({ level: 'silent' }), ...extra });
    await assert.rejects(source.start());
    assert.ok(config !== undefined);
    return config;
  }

  it('hands the assigners to the kafkajs consumer when set, over one in consumerConfig', async () => {
    const assigner = createCoPartitionedAssigner({ ownedTasks: () => [] });
    const other: PartitionAssigner = () => ({}) as Assigner;
    assert.deepEqual((await consumerConfigOf({ partitionAssigners: [assigner] })).partitionAssigners, [assigner]);
    assert.deepEqual((await consumerConfigOf({ partitionAssigners: [assigner], consumerConfig: { partitionAssigners: [other] } })).partitionAssigners, [assigner]);
  });

  it('leaves kafkajs its default assigner, or the one in consumerConfig, when unset', async () => {
    const other: PartitionAssigner = () => ({}) as Assigner;
    assert.equal('partitionAssigners' in (await consumerConfigOf({})), false);
    assert.deepEqual((await consumerConfigOf({ consumerConfig: { partitionAssigners: [other] } })).partitionAssigners, [other]);
  });
});
