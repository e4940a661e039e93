import { randomUUID } from 'node:crypto';
import type { Consumer, EachBatchPayload, Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { VigilConfig } from '../config/vigil-config.js';
import { createEngine, priceTableOf, userTrackerInit } from '../engine/engine-factory.js';
import type { AlertEvent } from '../model/index.js';
import type { RuleDefinition } from '../rules/index.js';
import { PartitionTask, type TaskOutput } from '../signals/partition-task.js';
import type { TaskCheckpoint, TaskPartial } from '../signals/signal-pipeline.js';
import { MergedUserReports } from '../signals/user-report.js';
import { KafkaSpanSource, TOPIC_INDEX, channelOf, coPartitioningProblems, createCoPartitionedAssigner, type KafkaSpanBatch } from '../sources/index.js';
import { kafkaClient } from '../sources/kafka-client.js';
import type { KafkaRunner, KafkaRunnerSinks } from './kafka-runner.js';
import {
  PARTIALS_MAX_MESSAGE_BYTES,
  checkpointMessage,
  decodePartialsMessage,
  ensurePartialsTopic,
  markerMessage,
  partialMessage,
  partialTombstone,
  partialsPartitionOf,
  partialsTopicOf,
} from './partials-topic.js';
import { BacklogProgress } from './backlog-progress.js';
import { PartialsPublisher, type Outgoing as PartialsOutgoing } from './partials-publisher.js';
import { fetchConfigOf, inputGuardOf, openRunnerSinks, startRunnerApi } from './runner-setup.js';
import { SinkDelivery } from './sink-delivery.js';

/** How long a shutdown waits for alerts still queued for a failing sink, ms. */
const SHUTDOWN_FLUSH_MS = 10_000;
/** How long start-up waits for the partials topic to be read to its end before joining the group, ms. */
const CATCH_UP_MS = 60_000;
/** Most alerts a non-leader keeps for a leader that may die before sending them. */
const MAX_ALERT_LOG = 100_000;
/** Bytes of partials-topic records per produce request (a request may pass it by one record). */
const PUBLISH_CHUNK_BYTES = 4 * 1024 * 1024;
/** Bytes of partials-topic records waiting for the broker beyond which the input waits for it. */
const MAX_UNSENT_BYTES = 16 * 1024 * 1024;

/** First delay before publishing again after a failed send, ms (doubling per failure). */
const PUBLISH_RETRY_MS = 500;
/** Longest delay between attempts to publish while the broker is away, ms. */
const PUBLISH_MAX_RETRY_MS = 5_000;

/** A partials-topic record waiting to be sent; a checkpoint is acknowledged to its task once sent. */
type Outgoing = PartialsOutgoing<Message>;

/**
 * Starts Vigil as a member of a scaled-out consumer group (`kafka.state: partitioned`).
 *
 * Two stages, as Kafka Streams would run them. First, partition tasks: partition `p` of every input
 * topic (co-partitioned: producers key every event by its user id, else its trace id) belongs to
 * task `p`, which one member owns at a time (a sticky co-partitioned assignor) and which holds all of
 * that partition's state. At each boundary its own event time closes, a task publishes the closed
 * sub-windows and a checkpoint to the compacted partials topic; the input offset it commits is where
 * a new owner must replay from to rebuild it exactly (see `PartitionTask`), committed only after
 * the partials are acknowledged. Second, every member reads the whole partials topic into a
 * group-wide engine: its event time is the slowest task's checkpoint, so rules and queries see
 * every partition. The owner of task 0 is the alert leader: it sends the alerts and, once they are
 * acknowledged, writes a marker; a new leader sends those after the marker (at-least-once, with
 * deterministic `alertId`s).
 */
export async function startPartitionedRunner(config: VigilConfig, rules: readonly RuleDefinition[], logger: Logger, sinks: KafkaRunnerSinks = {}): Promise<KafkaRunner> {
  if (!config.kafka) throw new Error('kafka: the config has no kafka section');
  const k = config.kafka;
  const w = config.windows;
  const s = config.signals;
  const kafka = kafkaClient({ brokers: k.brokers, clientId: k.clientId }, logger, 'vigil');
  const admin = kafka.admin();
  await admin.connect();

  const inputTopics = [k.tracesTopic, k.feedbackTopic, k.evalsTopic].filter((t): t is string => t !== undefined);
  const meta = await admin.fetchTopicMetadata({ topics: inputTopics });
  const counts: Record<string, number> = {};
  for (const t of meta.topics) counts[t.name] = t.partitions.length;
  const problem = coPartitioningProblems(counts);
  if (problem !== null) logger.warn({ partitionCounts: counts }, problem);
  const taskCount = Math.max(...Object.values(counts));
  const partialsTopic = k.partialsTopic ?? partialsTopicOf(k.groupId);
  const partialsPartitions = await ensurePartialsTopic(admin, partialsTopic, taskCount);

  const engine = createEngine(config, rules, { merged: true });
  engine.setChannels(Array.from({ length: taskCount }, (_, i) => i));
  const { registry, alertSink, deadLetterSink } = await openRunnerSinks(config, kafka, logger, sinks);
  const guard = inputGuardOf(config);

  let pauses = 0;
  let mergerPaused = false;
  const delivery = new SinkDelivery({
    alertSink,
    deadLetterSink,
    logger,
    maxPending: k.maxPendingAlerts,
    initialBackoffMs: k.sinkRetry.initialBackoff,
    maxBackoffMs: k.sinkRetry.maxBackoff,
    onPressure: (high) => {
      // A slow alert sink holds the group-wide stage back (its input stays in Kafka), not memory.
      mergerPaused = high;
      if (high) {
        pauses++;
        logger.warn({ backlog: delivery.status().sinkBacklog, bound: k.maxPendingAlerts }, 'sinks are behind: pausing the partials consumer');
        merger.pause([{ topic: partialsTopic }]);
      } else merger.resume([{ topic: partialsTopic }]);
    },
  });

  // This member's partition tasks, by partition number.
  const tasks = new Map<number, PartitionTask>();

  // ---- publishing: one producer; what a send could not deliver is sent again first ----
  // A batch whose publication failed is not applied twice (its offsets are), so its records must
  // not be lost either: they wait in the publisher, in order, until the broker takes them — sent
  // again by a retry of their own when no new batch comes to carry them.
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const publisher = new PartialsPublisher<Message>({
    send: async (messages) => {
      await producer.send({ topic: partialsTopic, acks: -1, messages });
    },
    chunkBytes: PUBLISH_CHUNK_BYTES,
    retryMs: PUBLISH_RETRY_MS,
    maxRetryMs: PUBLISH_MAX_RETRY_MS,
    onFailure: (err, unsent) => logger.warn({ err: err.message, unsent }, 'publishing partials failed; they are sent again until the broker takes them'),
    onRecovered: (failures) => logger.info({ failures, unsent: publisher.unsentCount }, 'publishing partials again'),
  });
  const retention: Record<string, { sub: number; keep: number }> = {
    spans: { sub: w.slide, keep: w.retention },
    requests: { sub: w.slide, keep: w.retention },
    feedback: { sub: w.slowSubWindow, keep: w.slowRetention },
    evals: { sub: w.slowSubWindow, keep: w.slowRetention },
  };
  const outgoing = (message: Message, checkpoint?: TaskCheckpoint): Outgoing => ({
    message,
    bytes: (message.value as Buffer | null)?.length ?? 0,
    onSent: checkpoint === undefined ? undefined : () => tasks.get(checkpoint.task)?.acknowledge(checkpoint.boundary),
  });
  const messagesOf = (task: number, out: TaskOutput): Outgoing[] => {
    const messages: Outgoing[] = [];
    for (const p of out.partials) messages.push(outgoing(partialMessage(task, p, partialsPartitions)));
    for (const c of out.checkpoints) {
      messages.push(outgoing(checkpointMessage(c, partialsPartitions), c.idle ? undefined : c));
      if (c.idle) continue;
      // Sub-windows no store keeps any more: compaction may drop them.
      for (const [family, r] of Object.entries(retention)) {
        if (c.boundary % r.sub === 0) messages.push(outgoing(partialTombstone(task, family, c.boundary - r.keep - r.sub, partialsPartitions)));
      }
    }
    return messages;
  };

  // ---- the group-wide stage: every member reads every task's partials ----
  const knownCheckpoints = new Map<number, number>();
  let marker = -Infinity;
  let leader = false;
  const alertLog: AlertEvent[] = [];
  let merged = 0;
  const readPositions = new Map<number, bigint>();
  const sendAlerts = async (alerts: readonly AlertEvent[]): Promise<void> => {
    const due = alerts.filter((a) => a.windowEnd > marker);
    const through = engine.pipeline.watermark.lastClosedBoundary;
    if (due.length > 0) await delivery.alerts(due);
    if (Number.isFinite(through) && through > marker) {
      await publisher.publish([outgoing(markerMessage(through))]);
      marker = through;
    }
  };
  const noteAlerts = (alerts: readonly AlertEvent[]): void => {
    for (const a of alerts) alertLog.push(a);
    pruneAlertLog();
  };
  const pruneAlertLog = (): void => {
    let cut = 0;
    while (cut < alertLog.length && alertLog[cut].windowEnd <= marker) cut++;
    if (alertLog.length - cut > MAX_ALERT_LOG) {
      logger.warn({ dropped: alertLog.length - cut - MAX_ALERT_LOG }, 'no alert leader for long: dropping the oldest alerts kept for it');
      cut = alertLog.length - MAX_ALERT_LOG;
    }
    if (cut > 0) alertLog.splice(0, cut);
  };

  const merger: Consumer = kafka.consumer({
    groupId: `${k.groupId}.merge.${randomUUID()}`,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: PARTIALS_MAX_MESSAGE_BYTES,
    maxBytes: 4 * PARTIALS_MAX_MESSAGE_BYTES,
    minBytes: 1,
    maxWaitTimeInMs: 500,
  });
  // Merged checkpoint by checkpoint (each closes at most one group boundary), the alerts sent
  // whenever half the sink bound has gathered: what waits for a slow sink stays within
  // `maxPendingAlerts` plus one boundary's alerts, not a whole fetch's (a fetch can hold hundreds).
  const onMergeBatch = async (payload: EachBatchPayload): Promise<void> => {
    const batch = payload.batch;
    let partials: TaskPartial[] = [];
    let gathered: AlertEvent[] = [];
    const flushAlerts = async (): Promise<void> => {
      const alerts = gathered;
      gathered = [];
      if (leader) await sendAlerts(alerts);
      else noteAlerts(alerts);
    };
    const apply = async (checkpoint: TaskCheckpoint | null): Promise<void> => {
      for (const a of engine.merge(partials, checkpoint === null ? [] : [checkpoint])) gathered.push(a);
      merged += partials.length;
      partials = [];
      if (gathered.length >= k.maxPendingAlerts / 2) await flushAlerts();
    };
    for (const message of batch.messages) {
      if (!payload.isRunning()) return;
      let record;
      try {
        record = decodePartialsMessage(message);
      } catch (err) {
        logger.error({ partition: batch.partition, offset: message.offset, err: (err as Error).message }, 'skipping an unreadable partials-topic record');
        continue;
      }
      if (record.kind === 'partial') partials.push(record.partial);
      else if (record.kind === 'checkpoint') {
        const c = record.checkpoint;
        if (!c.idle) knownCheckpoints.set(c.task, Math.max(knownCheckpoints.get(c.task) ?? -Infinity, c.boundary));
        await apply(c);
      } else if (record.kind === 'marker' && record.through > marker) {
        marker = record.through;
        pruneAlertLog();
      }
      readPositions.set(batch.partition, BigInt(message.offset) + 1n);
    }
    if (partials.length > 0) await apply(null);
    await flushAlerts();
    readPositions.set(batch.partition, BigInt(batch.lastOffset()) + 1n);
    await payload.heartbeat();
  };
  await merger.connect();
  await merger.subscribe({ topics: [partialsTopic], fromBeginning: true });
  await merger.run({ autoCommit: false, eachBatch: onMergeBatch });

  // Caught up with a partials partition: read up to the end it had when asked.
  const caughtUp = async (partitions: readonly number[], timeoutMs: number): Promise<boolean> => {
    const ends = await admin.fetchTopicOffsets(partialsTopic);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const behind = ends.filter((e) => partitions.includes(e.partition) && BigInt(e.high) > (readPositions.get(e.partition) ?? BigInt(e.low)));
      if (behind.length === 0) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const allPartials = Array.from({ length: partialsPartitions }, (_, i) => i);
  if (!(await caughtUp(allPartials, CATCH_UP_MS))) logger.warn({ topic: partialsTopic }, 'the partials topic was not read to its end within a minute; joining anyway');

  // ---- the first stage: this member's partition tasks ----
  if (engine.pipeline.users instanceof MergedUserReports) {
    engine.pipeline.users.setLocalProfiles((userId) => {
      for (const t of tasks.values()) {
        const p = t.pipeline.users.profile(userId);
        if (p !== undefined) return p;
      }
      return undefined;
    });
  }
  const subscribed = [
    { topic: k.tracesTopic, index: TOPIC_INDEX.spans },
    ...(k.feedbackTopic === undefined ? [] : [{ topic: k.feedbackTopic, index: TOPIC_INDEX.feedback }]),
    ...(k.evalsTopic === undefined ? [] : [{ topic: k.evalsTopic, index: TOPIC_INDEX.evals }]),
  ];
  const prices = priceTableOf(config);
  const newTask = (task: number): PartitionTask =>
    new PartitionTask({
      task,
      channels: subscribed.filter((t) => task < (counts[t.topic] ?? 0)).map((t) => channelOf(t.index, task)),
      horizonMs: k.recoveryHorizon,
      publishedThrough: knownCheckpoints.get(task),
      pipeline: {
        slideMs: w.slide,
        allowedLatenessMs: w.allowedLateness,
        slowSubWindowMs: w.slowSubWindow,
        prices,
        scanInjection: s.scanInjection,
        scanPii: s.scanPii,
        requestTimeoutMs: s.requestTimeout,
        users: userTrackerInit(config),
      },
    });
  // A task is (re)built from the partition's restore offset once this member has read the task's
  // latest checkpoint: what it then recomputes up to there, it does not publish again.
  const taskFor = async (batch: KafkaSpanBatch): Promise<PartitionTask> => {
    const p = batch.partition;
    const existing = tasks.get(p);
    const next = existing?.nextOffset(batch.topic);
    if (existing !== undefined && (next === undefined || Number(batch.firstOffset) <= next)) return existing;
    await caughtUp([partialsPartitionOf(p, partialsPartitions)], CATCH_UP_MS);
    // A gap after offsets this state has applied: either records that are not messages (transaction
    // markers, compaction) or another member moved the partition on meanwhile — then it published
    // checkpoints past this state's, which is stale.
    if (existing !== undefined && (knownCheckpoints.get(p) ?? -Infinity) <= existing.checkpoint) return existing;
    const task = newTask(p);
    if (existing !== undefined) lateOfDropped += existing.pipeline.watermark.lateCount;
    tasks.set(p, task);
    logger.info({ task: p, publishedThrough: knownCheckpoints.get(p) ?? null, from: { topic: batch.topic, offset: batch.firstOffset } }, existing === undefined ? 'partition task starts' : 'partition task restarts: another member moved it on');
    return task;
  };

  let assigned: number[] = [];
  let consumed = 0;
  let deadLettered = 0;
  let keyViolations = 0;
  let lastKeyWarning = 0;
  let newest = -Infinity;
  // Late events of the tasks this member has dropped, so the figure only grows.
  let lateOfDropped = 0;
  engine.setInputStatus(() => {
    let late = lateOfDropped;
    for (const t of tasks.values()) late += t.pipeline.watermark.lateCount;
    return { eventsIn: consumed, lateEvents: late, maxEventTime: newest, deadLetters: deadLettered };
  });
  const source = new KafkaSpanSource({
    kafka,
    groupId: k.groupId,
    topic: k.tracesTopic,
    feedbackTopic: k.feedbackTopic,
    evalsTopic: k.evalsTopic,
    fromBeginning: k.fromBeginning,
    consumerConfig: fetchConfigOf(k),
    commitIntervalMs: 1000,
    logger,
    guard,
    registry,
    checkKeys: true,
    partitionAssigners: [createCoPartitionedAssigner({ ownedTasks: () => [...tasks.keys()], logger })],
    // A partition whose task is gone (revoked meanwhile) keeps its last commit: the next owner must
    // replay from there, not from where this member stopped.
    commitOffset: (topic, partition) => tasks.get(partition)?.restoreOffset(topic) ?? null,
    skipBelow: (topic, partition) => tasks.get(partition)?.nextOffset(topic),
    onFatalError: (err) => {
      logger.error({ code: err.code, err: err.message }, 'the consumer crashed and will not restart');
      onFatal(err);
    },
    onAssignment: (_channels, assignment) => {
      const now = new Set<number>();
      for (const partitions of Object.values(assignment)) for (const p of partitions) now.add(p);
      for (const [p, t] of [...tasks]) {
        if (now.has(p)) continue;
        lateOfDropped += t.pipeline.watermark.lateCount;
        tasks.delete(p);
      }
      assigned = [...now].sort((a, b) => a - b);
      const wasLeader = leader;
      leader = now.has(0);
      logger.info({ tasks: assigned, leader }, 'partition tasks assigned');
      if (leader && !wasLeader) {
        const pending = alertLog.splice(0);
        void sendAlerts(pending).catch((err: unknown) => logger.error({ err }, 'sending the alerts of the previous leader failed'));
      }
    },
    handler: async (batch, control) => {
      progress.batchStart(batch);
      const task = await taskFor(batch);
      const out = task.process({
        topic: batch.topic,
        channel: batch.channel,
        firstOffset: Number(batch.firstOffset),
        lastOffset: Number(batch.lastOffset),
        spans: batch.spans,
        feedback: batch.feedback,
        evals: batch.evals,
      });
      engine.telemetry.recordConsumerLag(batch.topic, batch.partition, batch.highWatermark, batch.lastOffset);
      consumed += batch.spans.length + batch.feedback.length + batch.evals.length;
      deadLettered += batch.deadLetters.length;
      if (batch.keyViolations > 0) {
        keyViolations += batch.keyViolations;
        // Once a minute at most, positions only: keys are producer data.
        if (Date.now() - lastKeyWarning > 60_000) {
          lastKeyWarning = Date.now();
          logger.warn({ topic: batch.topic, partition: batch.partition, firstOffset: batch.firstOffset, violations: keyViolations }, 'events not keyed by their user id (else trace id): per-user and per-request signals of a user split across partitions are wrong');
        }
      }
      for (const x of batch.spans) if (x.startTime > newest) newest = x.startTime;
      for (const x of batch.feedback) if (x.timestamp > newest) newest = x.timestamp;
      for (const x of batch.evals) if (x.timestamp > newest) newest = x.timestamp;
      // Publishing runs behind processing rather than a produce round trip per batch: the offset a
      // task commits moves only with checkpoints the broker acknowledged (PartitionTask.acknowledge),
      // so nothing needs to wait for it — until the broker falls behind by MAX_UNSENT_BYTES (or is
      // away), when the input waits, heartbeating the group. Dead letters are acknowledged before
      // their offsets can be committed.
      const publishing = publisher.publish(messagesOf(task.task, out));
      const waits: Promise<unknown>[] = [];
      if (publisher.unsentBytes > MAX_UNSENT_BYTES) waits.push(publishing);
      else publishing.catch(ignoreFailure);
      if (batch.deadLetters.length > 0) waits.push(delivery.batch(batch.deadLetters, [], control));
      if (waits.length > 0) await delivery.heartbeating(Promise.all(waits), control);
      progress.batchDone(batch);
    },
  });
  // `first batch` and `caught up` (every assigned partition read to its end) mark a backlog in the log.
  const progress = new BacklogProgress(logger, () => source.assignedChannels(), () => consumed);
  let onFatal: (err: Error) => void = () => undefined;
  const fatal = new Promise<Error>((resolve) => (onFatal = resolve));

  // Quiet partitions keep closing windows; a task without events stops holding the group back.
  let lastIdle = Date.now();
  const idleTimer = setInterval(() => {
    const now = Date.now();
    const elapsed = now - lastIdle;
    lastIdle = now;
    for (const task of tasks.values()) {
      const messages = messagesOf(task.task, task.idleCheck(elapsed));
      publisher.publish(messages).catch(ignoreFailure);
    }
  }, w.idleAdvanceAfter);
  idleTimer.unref();

  engine.setReadiness(() =>
    source.ready
      ? { ready: true, reason: `member of group ${k.groupId}, tasks ${assigned.join(',')}${leader ? ' (alert leader)' : ''}` }
      : { ready: false, reason: `consumer ${source.state}: not yet connected with partitions assigned` },
  );
  engine.setStatusExtension(() => ({
    ...delivery.status(),
    adjusted: guard.adjustments,
    // What a slow alert sink holds back is the group-wide stage; the input goes on into the partials topic.
    paused: mergerPaused || source.paused,
    pauses,
    tasks: assigned,
    leader,
    keyViolations,
    partials: { published: publisher.published, merged, ...engine.pipeline.partialStatus() },
  }));
  await source.start();

  const { api, apiAddress } = await startRunnerApi(config, engine, logger);

  let stopping: Promise<void> | null = null;
  return {
    engine,
    api,
    apiAddress,
    fatal,
    stop: () => {
      stopping ??= (async () => {
        clearInterval(idleTimer);
        await source.stop();
        await publisher.publish([]).catch((err: unknown) => logger.error({ err, unsent: publisher.unsentCount }, 'partials not published at shutdown: the next owner recomputes them'));
        publisher.close();
        // The sinks first: a merge batch waiting on a slow sink must end before the merger can leave.
        const undelivered = await delivery.flush(SHUTDOWN_FLUSH_MS);
        if (undelivered > 0) logger.error({ undelivered }, 'shutting down with alerts the sink never acknowledged (the next leader sends them)');
        await merger.disconnect();
        await producer.disconnect();
        await admin.disconnect();
        await alertSink.close();
        await deadLetterSink.close();
        if (api) await api.close();
        engine.close();
      })();
      return stopping;
    },
  };
}

// A publication nobody waits for: the publisher reports the failure, keeps what it did not send and retries.
function ignoreFailure(): void {
  // Nothing more to do.
}
