/** Window-state size of one signal family's store. */
export interface StoreHealth {
  family: string;
  subWindows: number;
  /** Fine-key aggregates summed over sub-windows. */
  keys: number;
  approxBytes: number;
}

/**
 * The engine's own health as `/metrics` reports it: cumulative counters since start, current sizes
 * and the last consumer lag per partition. Carries no dimension value of any event and no user id.
 */
export interface EngineHealth {
  /** Events accepted (on time), by kind. */
  events: { spans: number; feedback: number; evals: number };
  lateEvents: number;
  deadLetters: number;
  /** Alerts emitted since start, per rule and state. */
  alerts: readonly { rule: string; state: string; count: number }[];
  consumerLag: readonly { topic: string; partition: number; lag: number }[];
  stores: readonly StoreHealth[];
  users: { tracked: number; approxBytes: number; anomalous: Readonly<Record<string, number>> };
}

/** What `/metrics` needs from the engine besides the queries: implemented by `VigilEngine`. */
export interface EngineHealthSource {
  health(): EngineHealth;
  /** Calls `listener` with each processed batch's duration in seconds; returns the unsubscribe. */
  onBatch(listener: (seconds: number) => void): () => void;
}

/** True when `backend` reports engine health (a `VigilEngine` does; a bare query backend need not). */
export function isEngineHealthSource(backend: object): backend is EngineHealthSource {
  const b = backend as Partial<EngineHealthSource>;
  return typeof b.health === 'function' && typeof b.onBatch === 'function';
}
