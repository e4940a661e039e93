import type { SignalFamily } from '../../operators/signal-family.js';
import type { FeedbackEvent } from '../model/index.js';
import type { JoinedDimensions } from './joined-dimensions.js';

/** The dimensions feedback signals are grouped by. */
export const FEEDBACK_DIMENSIONS = ['service', 'operation', 'model', 'tenant'] as const;

/** Counters of the `feedback` signal, one per feedback type, plus `joined`. */
export const FEEDBACK_COUNTERS = ['thumbs_up', 'thumbs_down', 'correction', 'regenerate', 'abandon', 'joined'] as const;

const TYPE_INDEX = { THUMBS_UP: 0, THUMBS_DOWN: 1, CORRECTION: 2, REGENERATE: 3, ABANDON: 4 } as const;

/**
 * User feedback: the `feedback` counters (rates such as `thumbs_down/(thumbs_up+thumbs_down)` or
 * `regenerate_rate`) and the `feedback_score` distribution, grouped by the dimensions of the request
 * the feedback is about (joined through `traceId` when the request is still known).
 */
export function feedbackFamily(join: JoinedDimensions): SignalFamily<FeedbackEvent> {
  return {
    name: 'feedback',
    dimensions: FEEDBACK_DIMENSIONS,
    dimension(_event, index) {
      switch (index) {
        case 0:
          return join.service;
        case 1:
          return join.operation;
        case 2:
          return join.model;
        default:
          return join.tenantId;
      }
    },
    time: (event) => event.timestamp,
    counterSignals: [
      {
        signal: 'feedback',
        counters: FEEDBACK_COUNTERS,
        description: 'user feedback by type (thumbs up/down, corrections, regenerations, abandonment); joined = matched to its request',
      },
    ],
    count(event, c) {
      c[TYPE_INDEX[event.type]] += 1;
      if (join.joined) c[5] += 1;
      return true;
    },
    distributions: [{ signal: 'feedback_score', description: 'numeric feedback ratings, when given', value: (event) => event.score }],
  };
}
