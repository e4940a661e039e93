/**
 * An automated evaluation score for one production request: the TypeScript face of
 * `schemas/eval-score-event.avsc` (record `vigil.v1.EvalScoreEvent`).
 */
export interface EvalScoreEvent {
  evalId: string;
  traceId: string | null;
  /** Event time, epoch ms. */
  timestamp: number;
  evaluator: string;
  metric: string;
  score: number;
  label: string | null;
  service: string | null;
  operation: string | null;
  model: string | null;
  tenantId: string | null;
  attributes: Record<string, string>;
}
