/**
 * A kafkajs partition assigner for co-partitioned topics: partition `p` of every subscribed topic
 * (traces, feedback, evals) goes to the same member, so per-partition state ("task `p`") sees all
 * the events of its keys. Tasks are spread evenly and stay with their member across rebalances
 * (see {@link assignTasks}); each member reports the tasks it owns in its join metadata.
 */
import { AssignerProtocol } from 'kafkajs';
import type { Assigner, GroupMember, GroupMemberAssignment, PartitionAssigner } from 'kafkajs';
import type { Logger } from 'pino';
import { assignTasks } from './task-assignment.js';

/** The protocol name the assigner registers under; every member of the group must offer it. */
export const CO_PARTITIONED_ASSIGNER_NAME = 'VigilCoPartitioned';

/** Version of the assigner's member metadata and assignments. */
export const CO_PARTITIONED_ASSIGNER_VERSION = 1;

/** Version of the owned-tasks userData layout ({@link encodeOwnedTasks}). */
const USER_DATA_VERSION = 1;
const INT32_MAX = 2 ** 31 - 1;

/** Options of {@link createCoPartitionedAssigner}. */
export interface CoPartitionedAssignerOptions {
  /**
   * The tasks (partition numbers) this member owns now, i.e. the partitions of its last assignment;
   * called at every join and sent to the group leader so that tasks stay where they are. Return
   * none on the first join. If it throws, the member claims nothing.
   */
  ownedTasks: () => readonly number[];
  /**
   * Where the co-partitioning warning and debug output go. Default: the kafkajs logger of the
   * consumer.
   */
  logger?: Logger;
}

/** The sorted, unique non-negative int32 tasks of `tasks`; anything else is dropped. */
function cleanTasks(tasks: readonly number[]): number[] {
  const valid = tasks.filter((t) => Number.isInteger(t) && t >= 0 && t <= INT32_MAX);
  return [...new Set(valid)].sort((a, b) => a - b);
}

/**
 * The member's owned tasks as assigner userData: an int16 layout version (1), an int32 count and
 * that many int32 task numbers, big-endian (2 + 4 + 4·n bytes). Tasks are sorted and deduplicated;
 * values that are not non-negative int32s are dropped. Later layout versions keep this prefix.
 */
export function encodeOwnedTasks(tasks: readonly number[]): Buffer {
  const clean = cleanTasks(tasks);
  const buffer = Buffer.alloc(6 + 4 * clean.length);
  buffer.writeInt16BE(USER_DATA_VERSION, 0);
  buffer.writeInt32BE(clean.length, 2);
  clean.forEach((task, i) => buffer.writeInt32BE(task, 6 + 4 * i));
  return buffer;
}

/**
 * The owned tasks in userData made by {@link encodeOwnedTasks}, sorted and unique. Missing,
 * truncated or otherwise malformed userData (or a layout version below 1) means the member owns
 * nothing: `[]`.
 */
export function decodeOwnedTasks(userData: Buffer | null | undefined): number[] {
  if (userData == null || userData.length < 6) return [];
  const version = userData.readInt16BE(0);
  const count = userData.readInt32BE(2);
  if (version < 1 || count < 0 || userData.length < 6 + 4 * count) return [];
  const tasks: number[] = [];
  for (let i = 0; i < count; i++) {
    const task = userData.readInt32BE(6 + 4 * i);
    if (task < 0) return [];
    tasks.push(task);
  }
  return cleanTasks(tasks);
}

/** The tasks a member's join metadata claims; bad or missing metadata claims none. */
function ownedTasksOf(member: GroupMember): number[] {
  try {
    const metadata = AssignerProtocol.MemberMetadata.decode(member.memberMetadata);
    return decodeOwnedTasks(metadata?.userData);
  } catch {
    return [];
  }
}

/**
 * Why `counts` (partitions per subscribed topic) breaks co-partitioning, or null when it does not
 * (all topics have the same partition count, or there is at most one topic). The message names
 * every topic with its count, in the order given.
 */
export function coPartitioningProblems(counts: Readonly<Record<string, number>>): string | null {
  const entries = Object.entries(counts);
  if (new Set(entries.map(([, count]) => count)).size <= 1) return null;
  const listed = entries.map(([topic, count]) => `${topic} has ${count} partition${count === 1 ? '' : 's'}`).join(', ');
  return (
    `the subscribed topics are not co-partitioned (${listed}): they need the same partition count, else events of one key ` +
    `may land in partitions of different numbers; task p still gets partition p of every topic that has it`
  );
}

/** Writes a warning to pino (`(fields, message)`) or to the kafkajs logger (`(message, extra)`). */
type Warn = (message: string, fields: Record<string, unknown>) => void;

/**
 * A kafkajs partition assigner (`VigilCoPartitioned`, version 1) that gives each member whole
 * tasks: task `p` is partition `p` of every subscribed topic that has one. Tasks are balanced
 * (members' counts differ by at most one), sticky (a task stays with its previous owner while that
 * member is within its quota) and assigned deterministically by {@link assignTasks}; the task count
 * is the largest partition count among the subscribed topics. Each member sends the tasks
 * `ownedTasks()` returns as userData in its join metadata ({@link encodeOwnedTasks}); the group
 * leader decodes them (bad or missing userData owns nothing).
 *
 * When the subscribed topics have different partition counts, the leader logs a warning
 * ({@link coPartitioningProblems}) once per distinct set of counts and assigns the tasks anyway.
 *
 * Use it as `kafka.consumer({ groupId, partitionAssigners: [createCoPartitionedAssigner({ ownedTasks })] })`
 * or through `KafkaSpanSourceSettings.partitionAssigners`. Every member of the group must offer it
 * (the broker picks a protocol all members support).
 */
export function createCoPartitionedAssigner(options: CoPartitionedAssignerOptions): PartitionAssigner {
  const { ownedTasks, logger } = options;
  return ({ cluster, logger: kafkaLogger }): Assigner => {
    const warn: Warn = logger ? (message, fields) => logger.warn(fields, message) : (message, fields) => kafkaLogger.warn(message, fields);
    let lastWarning: string | null = null;

    return {
      name: CO_PARTITIONED_ASSIGNER_NAME,
      version: CO_PARTITIONED_ASSIGNER_VERSION,

      protocol({ topics }) {
        let owned: readonly number[] = [];
        try {
          owned = ownedTasks();
        } catch (error) {
          warn('ownedTasks() threw; this member claims no tasks for the rebalance', {
            error: error instanceof Error ? error.message : String(error),
          });
        }
        return {
          name: CO_PARTITIONED_ASSIGNER_NAME,
          metadata: AssignerProtocol.MemberMetadata.encode({
            version: CO_PARTITIONED_ASSIGNER_VERSION,
            topics,
            userData: encodeOwnedTasks(owned),
          }),
        };
      },

      async assign({ members, topics }): Promise<GroupMemberAssignment[]> {
        await cluster.refreshMetadataIfNecessary();
        const partitionsOf = new Map<string, Set<number>>();
        const counts: Record<string, number> = {};
        let taskCount = 0;
        for (const topic of topics) {
          const ids = (cluster.findTopicPartitionMetadata(topic) ?? []).map((m) => m.partitionId);
          partitionsOf.set(topic, new Set(ids));
          counts[topic] = ids.length;
          for (const id of ids) taskCount = Math.max(taskCount, id + 1);
        }

        const problem = coPartitioningProblems(counts);
        if (problem !== null && problem !== lastWarning) warn(problem, { partitionCounts: counts });
        lastWarning = problem;

        const tasks = assignTasks(
          members.map((member) => ({ memberId: member.memberId, owned: ownedTasksOf(member) })),
          taskCount,
        );
        logger?.debug({ taskCount, tasks: Object.fromEntries(tasks) }, 'co-partitioned assignment');

        return [...tasks].map(([memberId, mine]) => {
          const assignment: Record<string, number[]> = {};
          for (const topic of topics) {
            const partitions = mine.filter((p) => partitionsOf.get(topic)?.has(p));
            if (partitions.length > 0) assignment[topic] = partitions;
          }
          return {
            memberId,
            memberAssignment: AssignerProtocol.MemberAssignment.encode({
              version: CO_PARTITIONED_ASSIGNER_VERSION,
              assignment,
              userData: Buffer.alloc(0),
            }),
          };
        });
      },
    };
  };
}
