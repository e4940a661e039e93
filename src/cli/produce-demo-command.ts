import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners } from 'kafkajs';
import type { Message, Producer, TopicMessages } from 'kafkajs';
import type { Logger } from 'pino';
import { EvalCodec, FeedbackCodec, SpanCodec } from '../codec/avro-codec.js';
import { loadConfigFile } from '../config/vigil-config.js';
import { DEFAULT_INCIDENTS, TrafficGenerator } from '../demo/traffic-generator.js';
import type { DemoEvents } from '../demo/traffic-generator.js';
import { VigilError } from '../errors.js';
import { createLogger } from '../logger.js';
import { kafkaClient } from '../sources/kafka-client.js';

/** Options of `vigil produce-demo`. */
export interface ProduceDemoOptions {
  config: string;
  /** End-user requests per second of event time. */
  rate: number;
  /** Event-time seconds per wall-clock second. */
  speed: number;
  seed: number;
  /** Stop after this much event time (ms); unset runs until SIGINT/SIGTERM. */
  duration?: number;
  /** Start the incident timeline again every this much event time (ms), so a long-running demo keeps having incidents. */
  cycle?: number;
  /** Event time of the first request (ISO-8601); default now. */
  start?: string;
}

/** Where each kind of demo event goes; a kind without a topic is not produced. */
interface DemoTopics {
  traces: string;
  feedback?: string;
  evals?: string;
}

/** What {@link produceDemoTraffic} produced. */
export interface ProducedCounts {
  spans: number;
  feedback: number;
  evals: number;
  eventTimeMs: number;
}

const TICK_MS = 200;
const PROGRESS_EVERY_MS = 10_000;

/**
 * Produces `vigil demo`'s synthetic traffic (planted incidents included) to Kafka as Avro records:
 * spans to the traces topic keyed by trace id, feedback and eval scores to their topics keyed by
 * their ids, paced so that event time runs `speed` times faster than the wall clock. Each batch is
 * acknowledged by all in-sync replicas before the next.
 */
export async function produceDemoTraffic(options: {
  producer: Producer;
  topics: DemoTopics;
  rate: number;
  speed: number;
  seed: number;
  startTime: number;
  durationMs?: number;
  cycleMs?: number;
  logger: Logger;
  signal: AbortSignal;
}): Promise<ProducedCounts> {
  const { producer, topics, logger, signal } = options;
  const spanCodec = new SpanCodec();
  const feedbackCodec = new FeedbackCodec();
  const evalCodec = new EvalCodec();
  const counts: ProducedCounts = { spans: 0, feedback: 0, evals: 0, eventTimeMs: 0 };
  const end = options.durationMs === undefined ? Infinity : options.startTime + options.durationMs;
  let cycle = 0;
  let cycleStart = options.startTime;
  let gen = new TrafficGenerator({ seed: options.seed, startTime: cycleStart, requestsPerSecond: options.rate });
  const wallStart = performance.now();
  let lastProgress = wallStart;
  let simNow = options.startTime;

  const send = async (events: DemoEvents): Promise<void> => {
    const batches: TopicMessages[] = [];
    const add = (topic: string | undefined, messages: Message[]): void => {
      if (topic !== undefined && messages.length > 0) batches.push({ topic, messages });
    };
    add(topics.traces, events.spans.map((s) => ({ key: s.traceId, value: spanCodec.encode(s) })));
    add(topics.feedback, events.feedback.map((f) => ({ key: f.feedbackId, value: feedbackCodec.encode(f) })));
    add(topics.evals, events.evals.map((e) => ({ key: e.evalId, value: evalCodec.encode(e) })));
    if (batches.length === 0) return;
    await producer.sendBatch({ acks: -1, topicMessages: batches });
    counts.spans += events.spans.length;
    if (topics.feedback !== undefined) counts.feedback += events.feedback.length;
    if (topics.evals !== undefined) counts.evals += events.evals.length;
  };

  while (simNow < end && !signal.aborted) {
    const target = Math.min(end, options.startTime + Math.floor((performance.now() - wallStart) * options.speed));
    if (target > simNow) {
      if (options.cycleMs !== undefined && target - cycleStart >= options.cycleMs) {
        // The old timeline ends at the cycle boundary; a fresh one (new seed) starts there.
        const boundary = cycleStart + options.cycleMs;
        await send(gen.eventsUntil(boundary));
        cycle++;
        cycleStart = boundary;
        gen = new TrafficGenerator({ seed: options.seed + cycle, startTime: cycleStart, requestsPerSecond: options.rate });
        logger.info({ cycle, eventTime: new Date(cycleStart).toISOString() }, 'planted incidents start again');
      }
      await send(gen.eventsUntil(target));
      simNow = target;
      counts.eventTimeMs = simNow - options.startTime;
    }
    const now = performance.now();
    if (now - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = now;
      logger.info({ ...counts, eventTime: new Date(simNow).toISOString() }, 'demo traffic produced');
    }
    if (simNow < end) await sleep(TICK_MS, undefined, { signal }).catch(() => undefined);
  }
  return counts;
}

/**
 * `vigil produce-demo --config F`: the demo's synthetic LLM traffic to the Kafka topics of the
 * config (`kafka.tracesTopic`, and `kafka.feedbackTopic` / `kafka.evalsTopic` when set), for a
 * `vigil run` to watch, until SIGINT/SIGTERM or `--duration` of event time.
 */
export async function runProduceDemoCommand(opts: ProduceDemoOptions): Promise<void> {
  const config = loadConfigFile(opts.config);
  const k = config.kafka;
  if (!k) throw new VigilError('VIGIL_CONFIG_INVALID', `${opts.config}: kafka: required by vigil produce-demo (brokers, topics)`, { details: { key: 'kafka' } });
  const startTime = opts.start === undefined ? Math.floor(Date.now() / 1000) * 1000 : Date.parse(opts.start);
  if (Number.isNaN(startTime)) throw new VigilError('VIGIL_CONFIG_INVALID', `--start: "${opts.start}" is not an ISO-8601 time`, { details: { key: 'start' } });
  const logger = createLogger(config.log.level);
  for (const [key, topic] of [['feedbackTopic', k.feedbackTopic], ['evalsTopic', k.evalsTopic]] as const) {
    if (topic === undefined) logger.warn({ key: `kafka.${key}` }, 'not set: those demo events are not produced');
  }
  const kafka = kafkaClient({ brokers: k.brokers, clientId: `${k.clientId}-demo-producer` }, logger, 'vigil-demo-producer');
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  logger.info(
    { topics: { traces: k.tracesTopic, feedback: k.feedbackTopic, evals: k.evalsTopic }, rate: opts.rate, speed: opts.speed, incidents: DEFAULT_INCIDENTS.length },
    'producing demo traffic',
  );
  try {
    const counts = await produceDemoTraffic({
      producer,
      topics: { traces: k.tracesTopic, feedback: k.feedbackTopic, evals: k.evalsTopic },
      rate: opts.rate,
      speed: opts.speed,
      seed: opts.seed,
      startTime,
      durationMs: opts.duration,
      cycleMs: opts.cycle,
      logger,
      signal: controller.signal,
    });
    logger.info({ ...counts }, 'demo producer stopped');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await producer.disconnect();
    logger.flush();
  }
}
