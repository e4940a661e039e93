/**
 * What a family of windowed signals is made of: how an event is keyed, which counters it adds to
 * and which value distributions it feeds. A {@link FamilyWindowStore} keeps one aggregate per fine
 * key per sub-window for a family and answers every signal of it; the families themselves (spans,
 * requests, feedback, evals, output, security) are plain data + pure functions in `src/signals/`.
 */

/** A counter group exposed as one signal, e.g. signal `errors` with counters `timeout`, `rate_limit`. */
export interface CounterSignal {
  /** Signal name, unique across the engine, e.g. `errors`. */
  readonly signal: string;
  /** Counter names within the signal, e.g. `['error', 'timeout', 'rate_limit']`. */
  readonly counters: readonly string[];
  /** Unit of the counter sums when they are not plain counts, e.g. `usd`. */
  readonly unit?: string;
  /** One line for docs and error hints. */
  readonly description: string;
}

/** A value distribution exposed as one signal, e.g. `latency` (ms) or `request_cost` (usd). */
export interface DistributionSignal<E> {
  /** Signal name, unique across the engine, e.g. `latency`. */
  readonly signal: string;
  readonly unit?: string;
  readonly description: string;
  /** The event's value, or null when the event has none (it then does not count in this signal). */
  value(event: E): number | null;
}

/**
 * A family of signals over events of type `E`. Pure data and functions: no state, no I/O.
 * `count` is on the hot path: it must not allocate.
 */
export interface SignalFamily<E> {
  /** Family name, e.g. `spans`, `requests`, `feedback`. */
  readonly name: string;
  /** The dimensions that form the fine key, in order, e.g. `['service','operation','model','provider','tenant']`. */
  readonly dimensions: readonly string[];
  /** Value of `dimensions[index]` for the event; null shows as `(none)`. */
  dimension(event: E, index: number): string | null;
  /** Event time of the event, epoch ms. */
  time(event: E): number;
  /** Counter signals; their counters are laid out one after another in one Float64Array per aggregate. */
  readonly counterSignals: readonly CounterSignal[];
  /**
   * Adds the event's increments to `counters` (the aggregate's array; counter `i` of the family is at
   * index `i`, counting across all counter signals in order). Returns false to leave the event out of
   * the family entirely (it then counts nowhere, not even in `count`).
   */
  count(event: E, counters: Float64Array): boolean;
  /**
   * Set when {@link count} returns true for every event, never throws, and only adds to counters
   * (`counters[i] += x`, never reading one otherwise), adding to any counter at most once per event
   * unless that counter's increments are whole numbers (exact below 2^53). The store then has
   * `count` add straight into the aggregate's counters instead of into a zeroed scratch array summed
   * in afterwards: the same sums bit for bit — `s + x` either way, and such whole numbers add up
   * exactly in any order — for less work per event.
   */
  readonly countsEveryEvent?: boolean;
  readonly distributions: readonly DistributionSignal<E>[];
}
