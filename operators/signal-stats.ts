/**
 * The statistic grammar of family signals (see `signal-family.ts`): which stat names a counter or
 * distribution signal answers and what each one computes. Pure parsing, no state; the
 * {@link FamilyWindowStore} evaluates the parsed stats.
 *
 * Counter signals, over the events of the family in a group and window:
 *
 * | stat | value |
 * |---|---|
 * | `count` | events |
 * | `<counter>` | sum of the counter |
 * | `<counter>_rate` | sum / events |
 * | `<a>/<b>`, `<a>/(<b>+<c>+…)` | sum of `a` / sum of the denominators (NaN when that is 0) |
 * | `<counter>_per_min`, `count_per_min` | sum (events) / window length in minutes |
 *
 * Distribution signals, over the values in a group and window: `count`, `sum`, `mean`, `min`,
 * `max`, `p<percentile>` (`p50`, `p99`, `p99.9`: see {@link parseStat}) and `psi`
 * (population stability index against the view's baseline window).
 *
 * A counter's own name wins over the suffix forms: with counters `x` and `x_rate`, stat `x_rate`
 * is the sum of counter `x_rate`.
 *
 * @packageDocumentation
 */

/** A parsed percentile-grammar stat; see {@link parseStat}. */
export type ParsedStat = { kind: 'quantile'; q: number } | { kind: 'count' | 'mean' | 'min' | 'max' };

// `p` + a percentile in (0, 100) without leading or trailing zeros, so each quantile has one name.
const QUANTILE_STAT = /^p(0|[1-9][0-9]?)(\.[0-9]*[1-9])?$/;

/**
 * Parses a percentile-grammar stat name: `count`, `mean`, `min`, `max`, or `p` followed by a
 * percentile strictly between 0 and 100 written without leading or trailing zeros — `p50`, `p99`,
 * `p99.9`, `p0.1` (quantile q = percentile / 100). Returns `undefined` for anything else (`p100`,
 * `p0`, `p050`, `p99.90`, `p999`). {@link parseDistributionStat} extends it with `sum` and `psi`.
 */
export function parseStat(name: string): ParsedStat | undefined {
  switch (name) {
    case 'count':
    case 'mean':
    case 'min':
    case 'max':
      return { kind: name };
  }
  if (!QUANTILE_STAT.test(name)) return undefined;
  const percentile = Number(name.slice(1));
  if (!(percentile > 0)) return undefined;
  return { kind: 'quantile', q: percentile / 100 };
}

/**
 * A parsed counter-signal stat. Counter indices are positions in the `counters` list given to
 * {@link parseCounterStat} (the signal's own counters, not the family-wide layout).
 */
export type CounterStat =
  | { readonly kind: 'count' }
  | { readonly kind: 'sum'; readonly counter: number }
  | { readonly kind: 'rate'; readonly counter: number }
  | { readonly kind: 'ratio'; readonly numerator: number; readonly denominators: readonly number[] }
  /** `counter` null: `count_per_min`. */
  | { readonly kind: 'per_min'; readonly counter: number | null };

/** A parsed distribution-signal stat: a {@link ParsedStat}, `sum`, or `psi`. */
export type DistributionStat = ParsedStat | { readonly kind: 'sum' } | { readonly kind: 'psi' };

const RATE_SUFFIX = '_rate';
const PER_MIN_SUFFIX = '_per_min';

/**
 * Parses a stat of a counter signal whose counters are `counters` (see the module table). Returns
 * `undefined` for anything else, including a parenthesised single denominator (`a/(b)`: write
 * `a/b`), a counter repeated among the denominators, and spaces.
 */
export function parseCounterStat(name: string, counters: readonly string[]): CounterStat | undefined {
  if (name === 'count') return { kind: 'count' };
  const exact = counters.indexOf(name);
  if (exact >= 0) return { kind: 'sum', counter: exact };
  const slash = name.indexOf('/');
  if (slash >= 0) return parseRatio(name, slash, counters);
  if (name.endsWith(RATE_SUFFIX)) {
    const counter = counters.indexOf(name.slice(0, -RATE_SUFFIX.length));
    return counter >= 0 ? { kind: 'rate', counter } : undefined;
  }
  if (name.endsWith(PER_MIN_SUFFIX)) {
    const base = name.slice(0, -PER_MIN_SUFFIX.length);
    if (base === 'count') return { kind: 'per_min', counter: null };
    const counter = counters.indexOf(base);
    return counter >= 0 ? { kind: 'per_min', counter } : undefined;
  }
  return undefined;
}

function parseRatio(name: string, slash: number, counters: readonly string[]): CounterStat | undefined {
  const numerator = counters.indexOf(name.slice(0, slash));
  if (numerator < 0) return undefined;
  const rest = name.slice(slash + 1);
  if (!(rest.startsWith('(') && rest.endsWith(')'))) {
    const denominator = counters.indexOf(rest);
    return denominator >= 0 ? { kind: 'ratio', numerator, denominators: [denominator] } : undefined;
  }
  const terms = rest.slice(1, -1).split('+');
  if (terms.length < 2) return undefined;
  const denominators: number[] = [];
  for (const term of terms) {
    const index = counters.indexOf(term);
    if (index < 0 || denominators.includes(index)) return undefined;
    denominators.push(index);
  }
  return { kind: 'ratio', numerator, denominators };
}

/**
 * Parses a stat of a distribution signal: `count`, `sum`, `mean`, `min`, `max`, `p<percentile>`
 * (as {@link parseStat}: `p50`, `p99.9`, not `p100` or `p99.90`) or `psi`.
 * Returns `undefined` for anything else. `psi` is only answerable by a view with a baseline.
 */
export function parseDistributionStat(name: string): DistributionStat | undefined {
  if (name === 'sum') return { kind: 'sum' };
  if (name === 'psi') return { kind: 'psi' };
  return parseStat(name);
}

/**
 * One line listing the stats a signal answers, for error messages: the counter grammar with this
 * signal's counters for `'counter'`, the distribution grammar for `'distribution'`.
 */
export function describeStats(kind: 'counter' | 'distribution', counters: readonly string[] = []): string {
  if (kind === 'distribution') {
    return 'count, sum, mean, min, max, p<percentile> (e.g. p50, p99, p99.9) or psi (needs a baseline)';
  }
  const a = counters[0] ?? 'a';
  const b = counters[1] ?? 'b';
  return (
    `count, a counter (${counters.join(', ')}), <counter>_rate (e.g. ${a}_rate), ` +
    `<a>/<b> or <a>/(<b>+<c>+…) (e.g. ${a}/${b}), <counter>_per_min or count_per_min`
  );
}
