import { parseRules, type RuleDefinition, type RuleParseContext, type SignalCatalogue } from '../../src/rules/index.js';
import { SLIDE_MS } from '../helpers/snapshot-factory.js';

const PERCENTILE = /^p(?:100|\d{1,2}(?:\.\d+)?)$/;

/** A catalogue like the engine's: latency and ttft in ms, with count/mean/min/max and pNN stats. */
export const CATALOGUE: SignalCatalogue = {
  signals: Object.fromEntries(
    ['latency', 'ttft'].map((name) => [
      name,
      {
        isValidStat: (stat: string) => ['count', 'mean', 'min', 'max'].includes(stat) || (PERCENTILE.test(stat) && Number(stat.slice(1)) > 0),
        statHint: 'p<percentile> (e.g. p50, p99, p99.9), count, mean, min, max',
        unit: 'ms',
      },
    ]),
  ),
};

/** A 10 s slide and 1 h retention. */
export const CTX: RuleParseContext = { slideMs: SLIDE_MS, maxWindowMs: 3_600_000, catalogue: CATALOGUE };

/** Rule keys as written in a rules file. */
export type RuleFields = Record<string, unknown>;

/** One validated rule from rules-file fields, with defaults for the required keys not given. */
export function ruleOf(fields: RuleFields = {}): RuleDefinition {
  return rulesOf([fields])[0];
}

/** Validated rules from rules-file fields, each with defaults for the required keys not given. */
export function rulesOf(list: readonly RuleFields[]): RuleDefinition[] {
  return parseRules(
    {
      rules: list.map((fields, i) => ({
        name: `rule-${i}`,
        signal: 'latency',
        stat: 'p99',
        groupBy: ['model'],
        window: '5m',
        op: '>',
        threshold: 8000,
        severity: 'critical',
        ...fields,
      })),
    },
    CTX,
    'test',
  );
}
