/**
 * The queue between partition tasks and the partials topic: records wait here, in order, until the
 * broker has acknowledged them; a checkpoint is acknowledged to its task only then. A failed send
 * keeps what it could not deliver and tries again by itself, with a growing delay, so the last
 * partials and checkpoints of a stream reach the topic even when no new batch comes to carry them
 * (the input was read to its end while the broker was away). No I/O of its own: the send function
 * and the timer are given.
 */

/** A record waiting to be published. */
export interface Outgoing<M> {
  readonly message: M;
  /** Its size, for chunking and for the back-pressure bound. */
  readonly bytes: number;
  /** Called once, when the broker has acknowledged the record (checkpoints acknowledge their task). */
  readonly onSent?: () => void;
}

/** Options of a {@link PartialsPublisher}. */
export interface PartialsPublisherOptions<M> {
  /** Sends one chunk of records; resolves once the broker acknowledged all of them. */
  readonly send: (messages: M[]) => Promise<void>;
  /** Bytes of records per send (a send may pass it by one record). */
  readonly chunkBytes: number;
  /** Delay before the first retry after a failed send, ms; it doubles per failure up to `maxRetryMs`. */
  readonly retryMs: number;
  readonly maxRetryMs: number;
  /** Starts a timer (default `setTimeout`, unref'd so that it never keeps the process alive); returns its canceller. */
  readonly setTimer?: (fn: () => void, ms: number) => () => void;
  /** The first failure after a success (not every retry of the same outage). */
  readonly onFailure?: (err: Error, unsent: number) => void;
  /** A send succeeded after `failures` failed ones. */
  readonly onRecovered?: (failures: number) => void;
}

function defaultTimer(fn: () => void, ms: number): () => void {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
}

/**
 * Publishes records in order, one send in flight at a time (see the module documentation). Every
 * record is sent exactly once as far as this process can tell — until {@link close}; what is still
 * unsent then is the next owner's to recompute.
 */
export class PartialsPublisher<M> {
  private readonly unsent: Outgoing<M>[] = [];
  private bytes = 0;
  private flushing: Promise<void> | null = null;
  private cancelRetry: (() => void) | null = null;
  private delay: number;
  private failures = 0;
  private closed = false;
  private sent = 0;
  private readonly setTimer: (fn: () => void, ms: number) => () => void;

  constructor(private readonly options: PartialsPublisherOptions<M>) {
    this.delay = options.retryMs;
    this.setTimer = options.setTimer ?? defaultTimer;
  }

  /** Records acknowledged so far. */
  get published(): number {
    return this.sent;
  }

  /** Records waiting (a send in flight included). */
  get unsentCount(): number {
    return this.unsent.length;
  }

  /** Bytes of the records waiting. */
  get unsentBytes(): number {
    return this.bytes;
  }

  /**
   * Queues `records` behind those waiting and starts sending unless a send is under way (which then
   * takes them too). Resolves when everything queued so far has been acknowledged; rejects when a
   * send fails — the records stay queued and are sent again (by a retry, or the next call).
   */
  publish(records: readonly Outgoing<M>[]): Promise<void> {
    for (const r of records) {
      this.unsent.push(r);
      this.bytes += r.bytes;
    }
    if (this.flushing !== null) return this.flushing;
    this.cancelRetry?.();
    this.cancelRetry = null;
    const flushing = this.flush().then(
      () => {
        if (this.failures > 0) this.options.onRecovered?.(this.failures);
        this.failures = 0;
        this.delay = this.options.retryMs;
      },
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        if (this.failures++ === 0) this.options.onFailure?.(error, this.unsent.length);
        this.scheduleRetry();
        throw error;
      },
    );
    this.flushing = flushing.finally(() => (this.flushing = null));
    return this.flushing;
  }

  /** Stops retrying; records still queued stay unsent. */
  close(): void {
    this.closed = true;
    this.cancelRetry?.();
    this.cancelRetry = null;
  }

  private async flush(): Promise<void> {
    const unsent = this.unsent;
    while (unsent.length > 0) {
      let n = 0;
      let bytes = 0;
      while (n < unsent.length && (n === 0 || bytes < this.options.chunkBytes)) bytes += unsent[n++].bytes;
      await this.options.send(unsent.slice(0, n).map((r) => r.message));
      for (const r of unsent.splice(0, n)) {
        this.bytes -= r.bytes;
        r.onSent?.();
      }
      this.sent += n;
    }
  }

  private scheduleRetry(): void {
    if (this.closed || this.cancelRetry !== null || this.unsent.length === 0) return;
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, this.options.maxRetryMs);
    this.cancelRetry = this.setTimer(() => {
      this.cancelRetry = null;
      // A publication nobody waits for: a failure schedules the next retry by itself.
      if (!this.closed) this.publish([]).catch(() => undefined);
    }, delay);
  }
}
