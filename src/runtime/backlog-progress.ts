/**
 * Start-up backlog progress of `vigil run`: one log line when the first batch arrives and one when
 * every assigned partition has first been read up to the high watermark its fetch reported, with
 * the events and the rate in between — how long a restarted consumer took to catch up.
 * `benchmarks/broker-throughput.bench.ts` times `vigil run` by these two lines.
 */
import type { Logger } from 'pino';

/** What {@link BacklogProgress.batchDone} needs of a batch. */
export interface BatchPosition {
  channel: number;
  /** Offset of the batch's last message. */
  lastOffset: string;
  /** The partition's high watermark when the batch was fetched. */
  highWatermark: string;
}

/**
 * Tracks per-channel lag until the first catch-up; afterwards it costs one boolean test per batch.
 * A partition that never delivers a batch (an empty one) keeps the catch-up line from appearing.
 */
export class BacklogProgress {
  private firstAt = 0;
  private caughtUp = false;
  private readonly lag = new Map<number, bigint>();

  constructor(
    private readonly logger: Logger,
    /** The channels currently assigned (all of them must have caught up). */
    private readonly assigned: () => readonly number[],
    /** Events processed so far (for the log line). */
    private readonly events: () => number,
  ) {}

  /** Call when a batch arrives, before processing it. */
  batchStart(batch: BatchPosition): void {
    if (this.firstAt !== 0) return;
    this.firstAt = Date.now();
    this.logger.info({ channel: batch.channel, highWatermark: batch.highWatermark }, 'first batch');
  }

  /** Call once a batch is processed and its alerts acknowledged. */
  batchDone(batch: BatchPosition): void {
    if (this.caughtUp) return;
    this.lag.set(batch.channel, BigInt(batch.highWatermark) - BigInt(batch.lastOffset) - 1n);
    const channels = this.assigned();
    if (channels.length === 0) return;
    for (const c of channels) {
      const lag = this.lag.get(c);
      if (lag === undefined || lag > 0n) return;
    }
    this.caughtUp = true;
    const ms = Math.max(1, Date.now() - this.firstAt);
    const events = this.events();
    this.logger.info({ events, ms, eventsPerSecond: Math.round((events * 1000) / ms) }, 'caught up: every assigned partition read to its high watermark');
  }
}
