import { NONE_VALUE, type GroupLabels } from '../model/index.js';
import { formatDuration } from './duration.js';
import type { RuleDefinition } from './rule-definition.js';

const WHOLE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const TWO_DECIMALS = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const SMALL = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });
const EXACT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });
const USD = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Stats of a value distribution. Any other stat is a counter's (sum, rate, ratio, per minute) or a user anomaly's. */
const DISTRIBUTION_STAT = /^(?:count|sum|mean|min|max|psi|p\d+(?:\.\d+)?)$/;

/** The stat that is itself a comparison with the baseline window rather than a value compared with it. */
const BASELINE_STAT = 'psi';

/** How the values of a stat read in a message, and how its thresholds read. */
interface Scale {
  /** A measured value, rounded for reading. */
  readonly value: (v: number) => string;
  /** A threshold, as configured. */
  readonly threshold: (v: number) => string;
}

const PLAIN: Scale = { value: formatValue, threshold: (v) => EXACT.format(v) };
const PERCENT: Scale = { value: (v) => `${formatValue(v * 100)}%`, threshold: (v) => `${EXACT.format(v * 100)}%` };
const POINTS: Scale = { value: (v) => `${formatValue(v * 100)} pp`, threshold: (v) => `${EXACT.format(v * 100)} pp` };
const PER_MIN: Scale = { value: (v) => `${formatValue(v)}/min`, threshold: (v) => EXACT.format(v) };
const TIMES: Scale = { value: (v) => `${formatValue(v)}×`, threshold: (v) => `${EXACT.format(v)}×` };
const DOLLARS: Scale = { value: (v) => dollars(v, USD), threshold: (v) => dollars(v, EXACT) };

/**
 * Message of a FIRING alert, e.g. `p99 latency by model=gpt-4o is 9,412 ms (> 8,000) over 5m [critical]`,
 * `timeout_rate of errors by model=gpt-4o is 7.2% (> 5%) over 5m [critical]`, or for a rule with a
 * baseline `mean eval_score by evaluator=judge, metric=faithfulness dropped by 0.14 vs the previous 24h (< -0.1) over 15m [warning]`.
 * Built only from the rule and the group's dimension values (for signals grouped by `user`, that
 * includes the user id), never from span text.
 */
export function firingMessage(rule: RuleDefinition, labels: GroupLabels, value: number): string {
  const scale = comparedScale(rule);
  return (
    `${subject(rule, labels)} ${firingReading(rule, scale, value)} ` +
    `(${rule.comparator} ${scale.threshold(rule.threshold)}) over ${messageDuration(rule.windowMs)} [${rule.severity.toLowerCase()}]`
  );
}

/**
 * Message of a RESOLVED alert: `RESOLVED: p99 latency by model=gpt-4o back to 3,100 ms (threshold 8,000) over 5m`
 * (with a baseline, e.g. `back to a drop of 0.02 vs the previous 24h`), or, when the group fell below
 * `minCount`, how many events it had instead of a value.
 */
export function resolvedMessage(rule: RuleDefinition, labels: GroupLabels, value: number, count: number): string {
  const scale = comparedScale(rule);
  const window = messageDuration(rule.windowMs);
  const threshold = scale.threshold(rule.threshold);
  if (count === 0) return `RESOLVED: ${subject(rule, labels)} had no events over ${window} (threshold ${threshold})`;
  if (count < rule.minCount) {
    return `RESOLVED: ${subject(rule, labels)} had ${WHOLE.format(count)} events over ${window}, fewer than minCount ${rule.minCount} (threshold ${threshold})`;
  }
  return `RESOLVED: ${subject(rule, labels)} back to ${resolvedReading(rule, scale, value)} (threshold ${threshold}) over ${window}`;
}

/**
 * `p99 latency where service=chat-api by model=gpt-4o`: stat, signal, filter, then the group. Stats
 * of counters read `timeout_rate of errors`.
 */
function subject(rule: RuleDefinition, labels: GroupLabels): string {
  let text = `${rule.stat}${DISTRIBUTION_STAT.test(rule.stat) ? ' ' : ' of '}${rule.signal}`;
  const filter = Object.entries(rule.filter).map(([d, v]) => `${d}=${v}`);
  if (filter.length > 0) text += ` where ${filter.join(', ')}`;
  if (rule.groupBy.length > 0) text += ` by ${rule.groupBy.map((d) => `${d}=${labels[d] ?? NONE_VALUE}`).join(', ')}`;
  return text;
}

/** `is 9,412 ms`, `rose by 0.2 vs the previous 1h`, `is 2.5× the previous 1h`. */
function firingReading(rule: RuleDefinition, scale: Scale, value: number): string {
  const { baseline } = rule;
  if (baseline === undefined) return `is ${scale.value(value)}`;
  const previous = `the previous ${messageDuration(baseline.windowMs)}`;
  if (rule.stat === BASELINE_STAT) return `is ${scale.value(value)} against ${previous}`;
  if (baseline.compare === 'ratio') return `is ${scale.value(value)} ${previous}`;
  if (value === 0) return `is unchanged vs ${previous}`;
  return `${value > 0 ? 'rose' : 'dropped'} by ${scale.value(Math.abs(value))} vs ${previous}`;
}

/** What follows `back to`: `3,100 ms`, `a drop of 0.02 vs the previous 24h`, `1.1× the previous 1h`. */
function resolvedReading(rule: RuleDefinition, scale: Scale, value: number): string {
  const { baseline } = rule;
  if (baseline === undefined) return scale.value(value);
  const previous = `the previous ${messageDuration(baseline.windowMs)}`;
  if (rule.stat === BASELINE_STAT) return `${scale.value(value)} against ${previous}`;
  if (baseline.compare === 'ratio') return `${scale.value(value)} ${previous}`;
  if (value === 0) return `no change vs ${previous}`;
  return `a ${value > 0 ? 'rise' : 'drop'} of ${scale.value(Math.abs(value))} vs ${previous}`;
}

/** How the value the rule tests reads: the stat's own scale, or that of its comparison with the baseline. */
function comparedScale(rule: RuleDefinition): Scale {
  const scale = statScale(rule);
  if (rule.baseline === undefined || rule.stat === BASELINE_STAT) return scale;
  switch (rule.baseline.compare) {
    case 'ratio':
      return TIMES;
    case 'relative':
      return PERCENT;
    case 'difference':
      // A difference of two shares is in percentage points, not a share of anything.
      return scale === PERCENT ? POINTS : scale;
  }
}

/**
 * Rates and ratios of counters are shares, shown as percentages; counts, per-minute rates, counter
 * sums and `psi` have no unit; distribution values carry the signal's unit, USD as dollars. A
 * counter sum named like the unit (the `usd` counter of a signal in `usd`) carries it too.
 */
function statScale(rule: RuleDefinition): Scale {
  const { stat, unit } = rule;
  if (stat.endsWith('_rate') || stat.includes('/')) return PERCENT;
  if (stat.endsWith('_per_min')) return PER_MIN;
  if (unit === undefined || unit === '' || stat === 'count' || stat === BASELINE_STAT) return PLAIN;
  if (!DISTRIBUTION_STAT.test(stat) && stat !== unit) return PLAIN;
  if (unit.toLowerCase() === 'usd') return DOLLARS;
  return { value: (v) => `${formatValue(v)} ${unit}`, threshold: PLAIN.threshold };
}

function formatValue(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return WHOLE.format(value);
  if (abs >= 1 || abs === 0) return TWO_DECIMALS.format(value);
  return SMALL.format(value);
}

function dollars(value: number, format: Intl.NumberFormat): string {
  return `${value < 0 ? '-' : ''}$${format.format(Math.abs(value))}`;
}

/** Like `formatDuration`, but whole days up to two read as hours: `the previous 24h` rather than `1d`. */
function messageDuration(ms: number): string {
  return ms > 0 && ms <= 2 * DAY_MS && ms % HOUR_MS === 0 ? `${ms / HOUR_MS}h` : formatDuration(ms);
}
