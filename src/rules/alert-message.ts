import { NONE_VALUE, type GroupLabels } from '../model/index.js';
import { formatDuration } from './duration.js';
import type { RuleDefinition } from './rule-definition.js';

const WHOLE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const TWO_DECIMALS = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const SMALL = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });
const EXACT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });

/**
 * Message of a FIRING alert, e.g. `p99 latency by model=gpt-4o is 9,412 ms (> 8,000) over 5m [critical]`.
 * Built only from the rule and the group's dimension values, never from span text or user ids.
 */
export function firingMessage(rule: RuleDefinition, labels: GroupLabels, value: number): string {
  return (
    `${subject(rule, labels)} is ${formatValue(value)}${unitOf(rule)} ` +
    `(${rule.comparator} ${EXACT.format(rule.threshold)}) over ${formatDuration(rule.windowMs)} [${rule.severity.toLowerCase()}]`
  );
}

/**
 * Message of a RESOLVED alert: `RESOLVED: p99 latency by model=gpt-4o back to 3,100 ms (threshold 8,000) over 5m`,
 * or, when the group fell below `minCount`, how many events it had instead of a value.
 */
export function resolvedMessage(rule: RuleDefinition, labels: GroupLabels, value: number, count: number): string {
  const window = formatDuration(rule.windowMs);
  const threshold = EXACT.format(rule.threshold);
  if (count === 0) return `RESOLVED: ${subject(rule, labels)} had no events over ${window} (threshold ${threshold})`;
  if (count < rule.minCount) {
    return `RESOLVED: ${subject(rule, labels)} had ${WHOLE.format(count)} events over ${window}, fewer than minCount ${rule.minCount} (threshold ${threshold})`;
  }
  return `RESOLVED: ${subject(rule, labels)} back to ${formatValue(value)}${unitOf(rule)} (threshold ${threshold}) over ${window}`;
}

/** `p99 latency where service=chat-api by model=gpt-4o`: stat, signal, filter, then the group. */
function subject(rule: RuleDefinition, labels: GroupLabels): string {
  let text = `${rule.stat} ${rule.signal}`;
  const filter = Object.entries(rule.filter).map(([d, v]) => `${d}=${v}`);
  if (filter.length > 0) text += ` where ${filter.join(', ')}`;
  if (rule.groupBy.length > 0) text += ` by ${rule.groupBy.map((d) => `${d}=${labels[d] ?? NONE_VALUE}`).join(', ')}`;
  return text;
}

/** Counts are dimensionless whatever the signal's unit. */
function unitOf(rule: RuleDefinition): string {
  return rule.unit === undefined || rule.unit === '' || rule.stat === 'count' ? '' : ` ${rule.unit}`;
}

function formatValue(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return WHOLE.format(value);
  if (abs >= 1 || abs === 0) return TWO_DECIMALS.format(value);
  return SMALL.format(value);
}
