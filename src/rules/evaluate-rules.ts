import { concatMap, type OperatorFunction } from 'rxjs';
import type { AlertEvent, SignalSnapshot } from '../model/index.js';
import type { RuleSet } from './rule-set.js';

/** The part of a {@link RuleSet} the operator needs. */
export type SnapshotEvaluator = Pick<RuleSet, 'evaluate'>;

/**
 * Evaluates each snapshot with `ruleSet` and emits the resulting alerts one by one, in order. An
 * error thrown by evaluation goes downstream as an error notification and unsubscribes the source.
 * The rule set is stateful: subscribe the resulting observable once.
 */
export function evaluateRules(ruleSet: SnapshotEvaluator): OperatorFunction<SignalSnapshot, AlertEvent> {
  return concatMap((snapshot) => ruleSet.evaluate(snapshot));
}
