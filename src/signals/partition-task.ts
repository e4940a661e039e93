import type { SubWindowPartial } from '../../operators/sub-window-partial.js';
import type { EvalScoreEvent, FeedbackEvent, LlmSpan } from '../model/index.js';
import { SignalPipeline, type SignalPipelineOptions, type TaskCheckpoint } from './signal-pipeline.js';
import { emptyUserReport, userReportOf } from './user-report.js';

/** Options of a {@link PartitionTask}. */
export interface PartitionTaskOptions {
  /** The task's number: the partition number it owns in every input topic. */
  task: number;
  /** Its event-time channels: one per input topic-partition it owns. */
  channels: readonly number[];
  /** The pipeline settings; a task keeps only open sub-windows, so its retentions are one sub-window. */
  pipeline: Omit<SignalPipelineOptions, 'onBoundary' | 'merged' | 'views' | 'retentionMs' | 'slowRetentionMs' | 'perChannelLateness' | 'packOnClose'>;
  /**
   * The task's last published checkpoint, when another owner (or an earlier life) published one: the
   * boundaries up to it are already published, so a restore recomputes them without publishing them.
   */
  publishedThrough?: number;
  /**
   * How far back of its last checkpoint a restore must replay for every detector to come back the
   * same (the longest of the cost-anomaly baseline, the request timeout, the longest span), ms.
   */
  horizonMs: number;
}

/** A run of consecutive records of one input topic-partition of the task. */
export interface TaskRecords {
  topic: string;
  /** Event-time channel of the topic-partition. */
  channel: number;
  /** Offset of the run's first and last record (dead letters included). */
  firstOffset: number;
  lastOffset: number;
  spans: readonly LlmSpan[];
  feedback: readonly FeedbackEvent[];
  evals: readonly EvalScoreEvent[];
}

/** What a task publishes: the sub-windows it closed, then the checkpoints saying so, in order. */
export interface TaskOutput {
  partials: SubWindowPartial[];
  checkpoints: TaskCheckpoint[];
}

interface RunMark {
  first: number;
  maxTime: number;
}

/**
 * The state of one input partition (partition `task` of every input topic: they are co-partitioned)
 * — first stage of the group's two-stage aggregation. It runs the whole signal pipeline over its
 * records (enrichment, request assembly, joins, per-user and cost detectors) and, for every boundary
 * its own event time closes, hands out the sub-windows that closed and a checkpoint; those go to the
 * partials topic, where every instance adds them up for rules and queries.
 *
 * Recovery is by replay: the offset to commit for a topic-partition ({@link restoreOffset}) is not
 * the next one to read but the first record a new owner must replay to rebuild this state exactly —
 * the first run holding an event within {@link PartitionTaskOptions.horizonMs} of the last
 * checkpoint the partials topic acknowledged ({@link acknowledge}). A new owner starts there with `publishedThrough` set to the last checkpoint: it
 * recomputes the published boundaries without publishing them and goes on. Records it already
 * applied are never applied again ({@link nextOffset}; the source skips them).
 *
 * Pure and synchronous: no I/O, no timers ({@link idleCheck} is called by the runner).
 */
export class PartitionTask {
  readonly task: number;
  readonly pipeline: SignalPipeline;
  private readonly horizonMs: number;
  private readonly publishedThrough: number;
  // The last checkpoint the partials topic acknowledged: restore offsets are computed from it.
  private acked: number;
  private idleReported = false;
  private readonly next = new Map<string, number>();
  private readonly runs = new Map<string, RunMark[]>();
  private out: TaskOutput = { partials: [], checkpoints: [] };

  constructor(options: PartitionTaskOptions) {
    const p = options.pipeline;
    this.task = options.task;
    this.horizonMs = options.horizonMs;
    this.publishedThrough = options.publishedThrough ?? -Infinity;
    this.acked = this.publishedThrough;
    this.pipeline = new SignalPipeline({
      ...p,
      retentionMs: p.slideMs,
      slowRetentionMs: p.slowSubWindowMs,
      views: [],
      // Whether an event is late must not depend on how a replay interleaves the task's topics.
      perChannelLateness: true,
      // Each closed sub-window is exported at once and evicted at the next boundary.
      packOnClose: false,
      onBoundary: (b) => this.boundaryClosed(b),
    });
    this.pipeline.setChannels(options.channels);
  }

  /** The next offset of `topic` not yet applied; undefined before its first run. */
  nextOffset(topic: string): number | undefined {
    return this.next.get(topic);
  }

  /**
   * The offset of `topic` to commit: where a new owner must start replaying to rebuild this task
   * exactly (see the class). Undefined before the first run.
   */
  restoreOffset(topic: string): number | undefined {
    const next = this.next.get(topic);
    if (next === undefined) return undefined;
    const runs = this.runs.get(topic);
    return runs !== undefined && runs.length > 0 ? runs[0].first : next;
  }

  /** The last checkpoint acknowledged (or found published), `-Infinity` before any. */
  get checkpoint(): number {
    return this.acked;
  }

  /**
   * The partials topic acknowledged the checkpoint of `boundary` (and everything before it): from
   * now on the restore offset may move past what only that checkpoint's predecessors needed. Until a
   * checkpoint is acknowledged, a crash must replay as if it never happened.
   */
  acknowledge(boundary: number): void {
    if (boundary > this.acked) {
      this.acked = boundary;
      this.prune();
    }
  }

  /**
   * Applies a run of records and returns what the boundaries it closed publish. A run wholly before
   * {@link nextOffset} was applied already and is ignored (the source trims partly applied ones).
   */
  process(run: TaskRecords): TaskOutput {
    const next = this.next.get(run.topic);
    if (next !== undefined && run.lastOffset < next) return this.take();
    this.next.set(run.topic, run.lastOffset + 1);
    let maxTime = -Infinity;
    for (const s of run.spans) if (s.startTime > maxTime) maxTime = s.startTime;
    for (const f of run.feedback) if (f.timestamp > maxTime) maxTime = f.timestamp;
    for (const e of run.evals) if (e.timestamp > maxTime) maxTime = e.timestamp;
    let marks = this.runs.get(run.topic);
    if (marks === undefined) this.runs.set(run.topic, (marks = []));
    marks.push({ first: run.firstOffset, maxTime });
    if (run.spans.length + run.feedback.length + run.evals.length > 0) this.idleReported = false;
    this.pipeline.ingest({ channel: run.channel, spans: run.spans, feedback: run.feedback, evals: run.evals }, ignore);
    this.prune();
    return this.take();
  }

  /**
   * The idle check, every `elapsedMs` of wall-clock time: channels silent since the last check stop
   * holding the task's event time back; when all are silent, event time moves on by `elapsedMs`
   * (windows keep closing on a quiet partition). A task that never had an event reports itself idle
   * once, so the group does not wait for it.
   */
  idleCheck(elapsedMs: number): TaskOutput {
    const wm = this.pipeline.watermark;
    if (wm.markSilentChannelsIdle()) {
      if (wm.maxEventTime !== -Infinity) wm.advanceTo(wm.maxEventTime + elapsedMs);
      else if (!this.idleReported) {
        this.idleReported = true;
        this.out.checkpoints.push({ task: this.task, boundary: 0, idle: true, users: emptyUserReport() });
      }
    }
    this.pipeline.emitClosed(ignore);
    this.prune();
    return this.take();
  }

  private boundaryClosed(b: number): void {
    if (b <= this.publishedThrough) return;
    for (const store of [this.pipeline.spans, this.pipeline.requests, this.pipeline.feedback, this.pipeline.evals]) {
      if (b % store.subWindowMs !== 0) continue;
      const partial = store.exportSubWindow(b - store.subWindowMs, { release: true });
      if (partial !== null) this.out.partials.push(partial);
    }
    this.out.checkpoints.push({ task: this.task, boundary: b, idle: false, users: userReportOf(this.pipeline.users) });
  }

  // Runs whose events all lie before the horizon of the acknowledged checkpoint are not needed to restore.
  private prune(): void {
    const from = this.acked - this.horizonMs;
    for (const marks of this.runs.values()) {
      let k = 0;
      while (k < marks.length && marks[k].maxTime < from) k++;
      if (k > 0) marks.splice(0, k);
    }
  }

  private take(): TaskOutput {
    const out = this.out;
    this.out = { partials: [], checkpoints: [] };
    return out;
  }
}

function ignore(): void {
  // A task has no views: nothing is emitted.
}
