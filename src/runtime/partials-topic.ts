import type { Admin, KafkaMessage, Message } from 'kafkajs';
import type { SubWindowPartial } from '../../operators/sub-window-partial.js';
import { SUB_WINDOW_PARTIAL_RECORD, SUB_WINDOW_PARTIAL_V1_RECORD, decodeSubWindowPartial, encodeSubWindowPartial } from '../codec/sub-window-partial-codec.js';
import { decodeAlertsMarker, decodeTaskCheckpoint, encodeAlertsMarker, encodeTaskCheckpoint } from '../codec/task-checkpoint-codec.js';
import { VigilError } from '../errors.js';
import type { TaskCheckpoint, TaskPartial } from '../signals/signal-pipeline.js';

/** The header naming the record a partials-topic message holds. */
const KIND_HEADER = 'vigil-schema';
const PARTIAL = SUB_WINDOW_PARTIAL_RECORD;
// Partials written before the sparse counters: still read.
const PARTIAL_V1 = SUB_WINDOW_PARTIAL_V1_RECORD;
const CHECKPOINT = 'vigil.v1.TaskCheckpoint';
const MARKER = 'vigil.v1.AlertsMarker';

/** Largest message the partials topic takes: a sub-window of many keys' digests can pass 1 MB. */
export const PARTIALS_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

/** The default partials topic of a consumer group. */
export function partialsTopicOf(groupId: string): string {
  return `${groupId}-vigil-partials`;
}

/** The partials partition of a task: all of one task's records go, in order, to one partition. */
export function partialsPartitionOf(task: number, partitions: number): number {
  return task % partitions;
}

/** A task's sub-window as a compacted-topic message (keyed by task, family and start: a republish replaces it). */
export function partialMessage(task: number, partial: SubWindowPartial, partitions: number): Message {
  return {
    key: `${task}/${partial.family}/${partial.start}`,
    value: encodeSubWindowPartial(task, partial),
    partition: partialsPartitionOf(task, partitions),
    headers: { [KIND_HEADER]: PARTIAL },
  };
}

/** The tombstone that lets compaction drop a sub-window past every store's retention. */
export function partialTombstone(task: number, family: string, start: number, partitions: number): Message {
  return { key: `${task}/${family}/${start}`, value: null, partition: partialsPartitionOf(task, partitions) };
}

/** A task's checkpoint (keyed by task: compaction keeps the latest). */
export function checkpointMessage(checkpoint: TaskCheckpoint, partitions: number): Message {
  return {
    key: `${checkpoint.task}/checkpoint`,
    value: encodeTaskCheckpoint(checkpoint),
    partition: partialsPartitionOf(checkpoint.task, partitions),
    headers: { [KIND_HEADER]: CHECKPOINT },
  };
}

/** The alert leader's marker, in partition 0. */
export function markerMessage(through: number): Message {
  return { key: 'alerts/marker', value: encodeAlertsMarker(through), partition: 0, headers: { [KIND_HEADER]: MARKER } };
}

/** What one partials-topic message holds. */
export type PartialsRecord =
  | { kind: 'partial'; partial: TaskPartial }
  | { kind: 'checkpoint'; checkpoint: TaskCheckpoint }
  | { kind: 'marker'; through: number }
  | { kind: 'tombstone' };

/**
 * Decodes one partials-topic message by its header.
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` naming the header or the record that does not decode.
 */
export function decodePartialsMessage(message: KafkaMessage): PartialsRecord {
  if (message.value === null) return { kind: 'tombstone' };
  const header = message.headers?.[KIND_HEADER];
  const kind = (Array.isArray(header) ? header[header.length - 1] : header)?.toString();
  switch (kind) {
    case PARTIAL:
    case PARTIAL_V1: {
      const { task, partial } = decodeSubWindowPartial(message.value, kind === PARTIAL ? 2 : 1);
      return { kind: 'partial', partial: { task, partial } };
    }
    case CHECKPOINT:
      return { kind: 'checkpoint', checkpoint: decodeTaskCheckpoint(message.value) };
    case MARKER:
      return { kind: 'marker', through: decodeAlertsMarker(message.value) };
    default:
      throw new VigilError('VIGIL_RECORD_INVALID', `${KIND_HEADER}: a partials-topic message must name its record in this header (offset ${message.offset})`, {
        details: { field: KIND_HEADER },
      });
  }
}

/**
 * Creates the partials topic when missing — compacted, as many partitions as the input has tasks,
 * messages up to {@link PARTIALS_MAX_MESSAGE_BYTES} — and returns its partition count.
 */
export async function ensurePartialsTopic(admin: Admin, topic: string, partitions: number): Promise<number> {
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) {
    await admin
      .createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: partitions,
            configEntries: [
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'max.message.bytes', value: String(PARTIALS_MAX_MESSAGE_BYTES) },
            ],
          },
        ],
      })
      .catch((cause: unknown) => {
        // Another instance created it first.
        if (!(cause instanceof Error && /already exists/i.test(cause.message))) throw cause;
      });
  }
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  return meta.topics[0].partitions.length;
}
