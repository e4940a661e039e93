import { parseRules, type RuleDefinition, type RuleParseContext, type SignalCatalogue, type SignalCatalogueEntry } from '../../src/rules/index.js';
import { SLIDE_MS } from '../helpers/snapshot-factory.js';

const PERCENTILE = /^p(?:100|\d{1,2}(?:\.\d+)?)$/;

const isPercentile = (stat: string): boolean => PERCENTILE.test(stat) && Number(stat.slice(1)) > 0;

/** A span distribution in ms with count/mean/min/max and pNN stats, as latency and ttft have always been. */
const SPAN_PERCENTILES: SignalCatalogueEntry = {
  isValidStat: (stat) => ['count', 'mean', 'min', 'max'].includes(stat) || isPercentile(stat),
  statHint: 'p<percentile> (e.g. p50, p99, p99.9), count, mean, min, max',
  unit: 'ms',
};

/** A distribution signal of the wider checklist: `sum` and `psi` too, `psi` only with a baseline. */
function distribution(fields: Omit<SignalCatalogueEntry, 'isValidStat' | 'statHint' | 'requiresBaseline'> = {}): SignalCatalogueEntry {
  return {
    isValidStat: (stat) => ['count', 'sum', 'mean', 'min', 'max', 'psi'].includes(stat) || isPercentile(stat),
    statHint: 'count, sum, mean, min, max, p<percentile> (e.g. p50, p99, p99.9) or psi (needs a baseline)',
    requiresBaseline: (stat) => stat === 'psi',
    ...fields,
  };
}

/** A counter signal: `count`, each counter's sum, `<counter>_rate`, `<a>/<b>` and `<counter>_per_min`. */
function counters(names: readonly string[], fields: Omit<SignalCatalogueEntry, 'isValidStat' | 'statHint'> = {}): SignalCatalogueEntry {
  const isCounter = (name: string): boolean => names.includes(name);
  return {
    isValidStat: (stat) => {
      if (stat === 'count' || stat === 'count_per_min' || isCounter(stat)) return true;
      if (stat.includes('/')) return stat.split('/').length === 2 && stat.split('/').every(isCounter);
      if (stat.endsWith('_rate')) return isCounter(stat.slice(0, -'_rate'.length));
      return stat.endsWith('_per_min') && isCounter(stat.slice(0, -'_per_min'.length));
    },
    statHint: `count, a counter (${names.join(', ')}), <counter>_rate, <a>/<b>, <counter>_per_min or count_per_min`,
    ...fields,
  };
}

/** Sub-window of the feedback and eval signals in {@link CATALOGUE}: 1 min. */
export const EVAL_SLIDE_MS = 60_000;

/** Retention of the feedback and eval signals in {@link CATALOGUE}: 25 h. */
export const EVAL_MAX_WINDOW_MS = 25 * 3_600_000;

/**
 * A catalogue like the engine's: latency and ttft in ms on the default dimensions, slide and
 * retention; span counters (`errors`, `cost` in usd); distributions `request_cost` (usd) and
 * `output_length` (chars); `eval_score` on its own dimensions with a 1 min sub-window and 25 h
 * retention; and `users`, grouped by user.
 */
export const CATALOGUE: SignalCatalogue = {
  signals: {
    latency: SPAN_PERCENTILES,
    ttft: SPAN_PERCENTILES,
    errors: counters(['error', 'timeout', 'rate_limit']),
    cost: counters(['usd', 'input_tokens'], { unit: 'usd' }),
    request_cost: distribution({ unit: 'usd' }),
    output_length: distribution({ unit: 'chars' }),
    eval_score: distribution({
      dimensions: ['evaluator', 'metric', 'service', 'model', 'tenant'],
      slideMs: EVAL_SLIDE_MS,
      maxWindowMs: EVAL_MAX_WINDOW_MS,
    }),
    users: {
      isValidStat: (stat) => ['rate_spike', 'token_spike', 'cost_spike', 'probing', 'session_spread'].includes(stat),
      statHint: 'rate_spike, token_spike, cost_spike, probing, session_spread',
      dimensions: ['user'],
    },
  },
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

/**
 * A mean-eval-score rule per evaluator and metric over 15 min against the previous 24 h, firing
 * when it dropped more than 0.1; `fields` override any key.
 */
export function evalDropRule(fields: RuleFields = {}): RuleDefinition {
  return ruleOf({
    name: 'faithfulness-drop',
    signal: 'eval_score',
    stat: 'mean',
    groupBy: ['evaluator', 'metric'],
    window: '15m',
    baseline: { window: '24h' },
    op: '<',
    threshold: -0.1,
    severity: 'warning',
    ...fields,
  });
}
