import type { SignalFamily } from '../../operators/signal-family.js';
import type { EvalScoreEvent } from '../model/index.js';
import type { JoinedDimensions } from './joined-dimensions.js';

/** The dimensions eval signals are grouped by. */
export const EVAL_DIMENSIONS = ['evaluator', 'metric', 'service', 'model', 'tenant'] as const;

/**
 * Automated evaluation scores: the `eval_score` distribution (count, mean, p10, p50, p90…) per
 * evaluator and metric, and the `evals` counters (`pass`/`fail` labels), grouped also by the joined
 * request's service and model.
 */
export function evalFamily(join: JoinedDimensions): SignalFamily<EvalScoreEvent> {
  return {
    name: 'evals',
    dimensions: EVAL_DIMENSIONS,
    dimension(event, index) {
      switch (index) {
        case 0:
          return event.evaluator;
        case 1:
          return event.metric;
        case 2:
          return join.service;
        case 3:
          return join.model;
        default:
          return join.tenantId;
      }
    },
    time: (event) => event.timestamp,
    counterSignals: [
      {
        signal: 'evals',
        counters: ['pass', 'fail', 'joined'],
        description: 'evaluation results by label (pass/fail, when the evaluator gives one); joined = matched to its request',
      },
    ],
    count(event, c) {
      const label = event.label;
      if (label === 'pass' || label === 'PASS') c[0] += 1;
      else if (label === 'fail' || label === 'FAIL') c[1] += 1;
      if (join.joined) c[2] += 1;
      return true;
    },
    distributions: [{ signal: 'eval_score', description: 'evaluation scores per evaluator and metric', value: (event) => event.score }],
  };
}
