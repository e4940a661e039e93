/**
 * Dimensions of the request a feedback or eval event is about, filled from the event itself and,
 * where it lacks them, from the request found by `traceId`. The pipeline fills ONE mutable instance
 * per event before counting it.
 */
export interface JoinedDimensions {
  service: string | null;
  operation: string | null;
  model: string | null;
  tenantId: string | null;
  /** True when the event's traceId matched a known request. */
  joined: boolean;
}

/** A fresh, empty {@link JoinedDimensions}. */
export function emptyJoin(): JoinedDimensions {
  return { service: null, operation: null, model: null, tenantId: null, joined: false };
}
