/** Kind of user feedback (`vigil.v1.FeedbackType`). */
export type FeedbackType = 'THUMBS_UP' | 'THUMBS_DOWN' | 'CORRECTION' | 'REGENERATE' | 'ABANDON';

/**
 * A user's reaction to a response: the TypeScript face of `schemas/feedback-event.avsc`
 * (record `vigil.v1.FeedbackEvent`). `comment` is never logged, alerted or returned.
 */
export interface FeedbackEvent {
  feedbackId: string;
  traceId: string | null;
  /** Event time, epoch ms. */
  timestamp: number;
  type: FeedbackType;
  service: string | null;
  operation: string | null;
  model: string | null;
  userId: string | null;
  tenantId: string | null;
  score: number | null;
  comment: string | null;
  attributes: Record<string, string>;
}
