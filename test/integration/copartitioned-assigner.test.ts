import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AssignerProtocol } from 'kafkajs';
import type { Admin, Consumer, ConsumerGroupJoinEvent } from 'kafkajs';
import { CO_PARTITIONED_ASSIGNER_NAME, createCoPartitionedAssigner, decodeOwnedTasks } from '../../src/sources/copartitioned-assigner.js';
import { createTopic, deleteGroups, deleteTopics, kafkaBrokers, randomName, testKafka } from '../helpers/kafka-test-env.js';

const TIMEOUT_MS = 120_000;
const PARTITIONS = 6;
const ALL = Array.from({ length: PARTITIONS }, (_, i) => i);
const topics: string[] = [];
const groups: string[] = [];
const consumers: Consumer[] = [];
let admin: Admin | undefined;

after(async () => {
  if (!process.env.KAFKA_BROKERS) return;
  await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)));
  await admin?.disconnect().catch(() => undefined);
  await deleteGroups(groups);
  await deleteTopics(topics);
});

/** One group member: its consumer and what its own GROUP_JOIN events reported. */
interface Member {
  name: string;
  consumer: Consumer;
  /** The latest GROUP_JOIN payload; undefined before the first. */
  join: ConsumerGroupJoinEvent['payload'] | undefined;
  /** GROUP_JOIN events seen so far. */
  joins: number;
}

/** The partition numbers of an assignment, over all topics, sorted and unique. */
function partitionNumbers(byTopic: Readonly<Record<string, readonly number[]>>): number[] {
  return [...new Set(Object.values(byTopic).flat())].sort((a, b) => a - b);
}

/** The member's tasks: the partition numbers of its latest assignment. */
function tasksOf(member: Member): number[] {
  return partitionNumbers(member.join?.memberAssignment ?? {});
}

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

/**
 * Resolves once `check` returns true, evaluating it after every GROUP_JOIN of `members` (and every
 * 250 ms, since the group's state is read from the broker too).
 *
 * @throws Error when it does not within `ms`, with `describe()` of the last state.
 */
async function until(members: readonly Member[], check: () => Promise<boolean>, ms: number, describe: () => string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  const removers: (() => void)[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let running = false;
      const evaluate = (): void => {
        if (running) return;
        running = true;
        check()
          .then((ok) => {
            running = false;
            if (ok) resolve();
          })
          .catch((err: unknown) => {
            running = false;
            reject(err instanceof Error ? err : new Error(String(err)));
          });
      };
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms; last state: ${describe()}`)), ms);
      poll = setInterval(evaluate, 250);
      for (const m of members) removers.push(m.consumer.on(m.consumer.events.GROUP_JOIN, evaluate));
      evaluate();
    });
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
    for (const remove of removers) remove();
  }
}

describe('co-partitioned assigner against a real broker', () => {
  it('needs KAFKA_BROKERS to point at a broker', () => {
    assert.ok(kafkaBrokers().length > 0);
  });

  it(
    'gives each of three members the same partitions of both topics, and keeps the survivors on their tasks when one leaves',
    { timeout: TIMEOUT_MS },
    async () => {
      const tracesTopic = randomName('vigil-it-copart-traces');
      const feedbackTopic = randomName('vigil-it-copart-feedback');
      const groupId = randomName('vigil-it-copart-group');
      topics.push(tracesTopic, feedbackTopic);
      groups.push(groupId);
      await createTopic(tracesTopic, PARTITIONS);
      await createTopic(feedbackTopic, PARTITIONS);
      admin = testKafka('vigil-it-copart-admin').admin();
      await admin.connect();

      const members: Member[] = ['a', 'b', 'c'].map((name) => {
        const member: Member = { name, consumer: undefined as unknown as Consumer, join: undefined, joins: 0 };
        member.consumer = testKafka(`vigil-it-copart-${name}`).consumer({
          groupId,
          allowAutoTopicCreation: false,
          sessionTimeout: 6000,
          rebalanceTimeout: 6000,
          heartbeatInterval: 500,
          // Short fetch polls: without messages a fetch waits this long, and disconnect() waits for it.
          maxWaitTimeInMs: 500,
          partitionAssigners: [createCoPartitionedAssigner({ ownedTasks: () => tasksOf(member) })],
        });
        member.consumer.on(member.consumer.events.GROUP_JOIN, (event) => {
          member.join = event.payload;
          member.joins++;
        });
        consumers.push(member.consumer);
        return member;
      });

      /** The group as the broker sees it: state and each member's decoded assignment and claimed tasks. */
      const describeGroup = async (): Promise<{ state: string; protocol: string; assignments: Map<string, Record<string, number[]>>; claims: Map<string, number[]> }> => {
        const { groups: [group] } = await (admin as Admin).describeGroups([groupId]);
        return {
          state: group.state,
          protocol: group.protocol,
          assignments: new Map(group.members.map((m) => [m.memberId, AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {}])),
          claims: new Map(group.members.map((m) => [m.memberId, decodeOwnedTasks(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData)])),
        };
      };

      /**
       * True when the group is stable with exactly `live` as members, each member's latest
       * GROUP_JOIN matches the broker's view, and together they hold every task once.
       */
      const settled = async (live: readonly Member[], joinedAfter: Map<Member, number>): Promise<boolean> => {
        if (live.some((m) => m.join === undefined || m.joins <= (joinedAfter.get(m) ?? 0))) return false;
        const all = live.flatMap(tasksOf);
        if (all.length !== PARTITIONS || new Set(all).size !== PARTITIONS) return false;
        const group = await describeGroup();
        if (group.state !== 'Stable' || group.assignments.size !== live.length) return false;
        return live.every((m) => {
          const broker = group.assignments.get(m.join?.memberId ?? '');
          return broker !== undefined && partitionNumbers(broker).join() === tasksOf(m).join();
        });
      };
      const state = (live: readonly Member[]) => (): string =>
        live.map((m) => `${m.name}(${m.joins} joins): ${JSON.stringify(m.join?.memberAssignment ?? null)}`).join('; ');

      await Promise.all(
        members.map(async ({ consumer }) => {
          await consumer.connect();
          await consumer.subscribe({ topics: [tracesTopic, feedbackTopic], fromBeginning: true });
          await consumer.run({ eachMessage: async () => undefined });
        }),
      );

      // Three members: each has the same partition numbers on both topics, and together all six once.
      await until(members, () => settled(members, new Map()), 60_000, state(members));
      for (const m of members) {
        assert.equal(m.join?.groupProtocol, CO_PARTITIONED_ASSIGNER_NAME, `${m.name} joined with the co-partitioned protocol`);
        const byTopic = m.join?.memberAssignment ?? {};
        assert.deepEqual(sorted(byTopic[tracesTopic] ?? []), sorted(byTopic[feedbackTopic] ?? []), `${m.name}: same partitions on both topics`);
        assert.equal(tasksOf(m).length, PARTITIONS / members.length, `${m.name}: balanced`);
      }
      assert.deepEqual(sorted(members.flatMap(tasksOf)), ALL);
      assert.equal((await describeGroup()).protocol, CO_PARTITIONED_ASSIGNER_NAME);

      // One member leaves: the survivors keep every task they had and take over the leaver's.
      const [a, b, c] = members;
      const survivors = [a, b];
      const before = new Map(survivors.map((m) => [m, tasksOf(m)]));
      const joinsBefore = new Map(survivors.map((m) => [m, m.joins]));
      await c.consumer.disconnect();
      await until(survivors, () => settled(survivors, joinsBefore), 60_000, state(survivors));

      for (const m of survivors) {
        const now = tasksOf(m);
        for (const task of before.get(m) ?? []) assert.ok(now.includes(task), `${m.name} kept task ${task}: had ${String(before.get(m))}, now ${String(now)}`);
        assert.equal(now.length, PARTITIONS / survivors.length, `${m.name}: balanced`);
        const byTopic = m.join?.memberAssignment ?? {};
        assert.deepEqual(sorted(byTopic[tracesTopic] ?? []), sorted(byTopic[feedbackTopic] ?? []), `${m.name}: same partitions on both topics`);
      }
      assert.deepEqual(sorted(survivors.flatMap(tasksOf)), ALL);

      // The userData each survivor sent at that rebalance reached the broker intact: the tasks it held before.
      const group = await describeGroup();
      for (const m of survivors) assert.deepEqual(group.claims.get(m.join?.memberId ?? ''), before.get(m), `${m.name}'s claimed tasks`);
    },
  );
});
