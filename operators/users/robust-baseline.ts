/**
 * Robust per-bucket baseline of one series (requests, tokens, cost, distinct sessions per bucket):
 * an EWMA of the bucket values plus an EWMA of the absolute deviations from it (a mean absolute
 * deviation, MAD-like: ≈ 0.8 σ for Gaussian noise), with
 *
 * - an O(1) catch-up over empty buckets using the closed form of the recurrences;
 * - a spike threshold `max(minValue, mean + k · effectiveSpread)`, where the effective spread is
 *   floored (absolutely, relative to the mean and, for counts, by the Poisson noise √mean) so a
 *   perfectly regular series is not flagged by one extra request;
 * - winsorised updates once the series has history: a bucket value is clipped to
 *   `mean + winsorizeK · effectiveSpread` before it is folded in, so one spike moves the baseline
 *   by a bounded amount while a sustained change is still learned: each clipped bucket widens the
 *   spread by a factor ≈ `1 + (winsorizeK − 1) · alpha`, so at `alpha = 0.05, winsorizeK = 3` a
 *   sustained 20× step stays above threshold for ≈ 30 buckets and is then the new normal.
 *
 * The scalar functions are what {@link UserActivityTracker} runs on its typed arrays;
 * {@link RobustBaseline} is the same algorithm on one object, for single series and as the
 * reference the tracker is tested against.
 *
 * @packageDocumentation
 */

/** Threshold parameters of one spike detector (one series). */
export interface SpikeRule {
  /** Multiplier of the effective spread above the baseline: `threshold = mean + k · spread`. `> 0`. */
  k: number;
  /** A bucket value must also exceed this absolute value to be anomalous. `>= 0`. */
  minValue: number;
  /** Absolute floor of the effective spread. `> 0`. */
  minSpread: number;
  /** Floor of the effective spread as a fraction of the baseline mean. `>= 0`. */
  relativeMinSpread: number;
  /**
   * Fixed threshold for series with fewer than `minHistoryBuckets` closed buckets (a user seen for
   * the first time): a bucket value above it is anomalous and reported with `global: true`. `> 0`.
   */
  globalCap: number;
}

/** One EWMA step of the mean: `mean + alpha · (x − mean)`. */
export function ewmaStep(mean: number, x: number, alpha: number): number {
  return mean + alpha * (x - mean);
}

/**
 * One EWMA step of the mean absolute deviation: `(1 − alpha) · spread + alpha · |x − mean|`, where
 * `mean` is the baseline BEFORE `x` is folded in (the deviation of `x` from its forecast).
 */
export function ewmaSpreadStep(mean: number, spread: number, x: number, alpha: number): number {
  return (1 - alpha) * spread + alpha * Math.abs(x - mean);
}

/**
 * The mean after `n` empty buckets (value 0), in O(1): `(1 − alpha)^n · mean`.
 * Equal to `n` applications of {@link ewmaStep} with `x = 0`.
 */
export function ewmaMeanAfterEmpty(mean: number, n: number, alpha: number): number {
  return n <= 0 ? mean : Math.pow(1 - alpha, n) * mean;
}

/**
 * The spread after `n` empty buckets, in O(1). With `d = 1 − alpha` and `m_i = dⁱ · mean`, step
 * `i` adds `alpha · |0 − m_i| = alpha · dⁱ · mean`, so
 * `s_n = dⁿ · spread + Σ_{i<n} d^{n−1−i} · alpha · dⁱ · mean = dⁿ · spread + n · alpha · d^{n−1} · mean`
 * (for `mean >= 0`). Equal to `n` applications of {@link ewmaSpreadStep} with `x = 0`.
 */
export function ewmaSpreadAfterEmpty(mean: number, spread: number, n: number, alpha: number): number {
  if (n <= 0) return spread;
  const d = 1 - alpha;
  const dn1 = Math.pow(d, n - 1);
  return dn1 * d * spread + n * alpha * dn1 * mean;
}

/**
 * The spread used by thresholds and winsorising: the estimated spread floored by
 * `rule.minSpread`, by `rule.relativeMinSpread · mean` and, when `countFloor` (the series counts
 * events), by the Poisson standard deviation `√mean`.
 */
export function effectiveSpread(mean: number, spread: number, rule: SpikeRule, countFloor: boolean): number {
  let e = spread;
  if (e < rule.minSpread) e = rule.minSpread;
  const rel = rule.relativeMinSpread * mean;
  if (e < rel) e = rel;
  if (countFloor) {
    const poisson = Math.sqrt(mean > 0 ? mean : 0);
    if (e < poisson) e = poisson;
  }
  return e;
}

/**
 * The threshold a bucket value must EXCEED (strictly) to be anomalous:
 * `max(rule.minValue, mean + rule.k · effectiveSpread(...))` for a series with history,
 * `rule.globalCap` without (`hasHistory` false).
 */
export function spikeThreshold(mean: number, spread: number, rule: SpikeRule, countFloor: boolean, hasHistory: boolean): number {
  if (!hasHistory) return rule.globalCap;
  const t = mean + rule.k * effectiveSpread(mean, spread, rule, countFloor);
  return t < rule.minValue ? rule.minValue : t;
}

/** Parameters shared by every series of a tracker. */
export interface RobustBaselineParams {
  /** EWMA weight of the newest bucket, in (0, 1). */
  alpha: number;
  /** Closed buckets needed before the series is judged against its own baseline (else `globalCap`). */
  minHistoryBuckets: number;
  /** Clip of folded values, in effective spreads above the mean (`Infinity` disables). `> 0`. */
  winsorizeK: number;
}

/**
 * One robust baseline as an object: the reference semantics of the per-user columns of
 * {@link UserActivityTracker}.
 *
 * Lifecycle: {@link close} folds one closed bucket, {@link closeEmpty} folds `n` empty ones in
 * O(1). The first closed bucket initialises `mean = x, spread = 0`; later buckets run the EWMA
 * steps, on the winsorised value once `buckets >= minHistoryBuckets`.
 */
export class RobustBaseline {
  /** EWMA of the bucket values. */
  mean = 0;
  /** EWMA of the absolute deviations from {@link mean}. */
  spread = 0;
  /** Closed buckets folded in so far (empty ones included). */
  buckets = 0;

  constructor(
    /** Shared parameters. */
    readonly params: RobustBaselineParams,
    /** Threshold parameters of this series. */
    readonly rule: SpikeRule,
    /** True when the series counts events (adds the Poisson floor √mean to the spread). */
    readonly countFloor: boolean,
  ) {}

  /** True once the series is judged against its own baseline rather than `rule.globalCap`. */
  get hasHistory(): boolean {
    return this.buckets >= this.params.minHistoryBuckets;
  }

  /** The threshold the current (open) bucket's value must exceed; see {@link spikeThreshold}. */
  threshold(): number {
    return spikeThreshold(this.mean, this.spread, this.rule, this.countFloor, this.hasHistory);
  }

  /** Folds one closed bucket of value `x`. */
  close(x: number): void {
    if (this.buckets === 0) {
      this.mean = x;
      this.spread = 0;
    } else {
      const v = winsorize(this.mean, this.spread, x, this.rule, this.countFloor, this.hasHistory, this.params.winsorizeK);
      const s = ewmaSpreadStep(this.mean, this.spread, v, this.params.alpha);
      this.mean = ewmaStep(this.mean, v, this.params.alpha);
      this.spread = s;
    }
    this.buckets++;
  }

  /** Folds `n` closed empty buckets (value 0) in O(1). Before any bucket it only counts them. */
  closeEmpty(n: number): void {
    if (n <= 0) return;
    if (this.buckets === 0) {
      this.close(0);
      n--;
    }
    const s = ewmaSpreadAfterEmpty(this.mean, this.spread, n, this.params.alpha);
    this.mean = ewmaMeanAfterEmpty(this.mean, n, this.params.alpha);
    this.spread = s;
    this.buckets += n;
  }
}

/**
 * The value actually folded into the baseline: `x` clipped to `mean + winsorizeK · effectiveSpread`
 * when the series has history, `x` unchanged otherwise (a young baseline is not trusted to clip).
 * Values below the mean are never clipped: only upward spikes are detected.
 */
export function winsorize(
  mean: number,
  spread: number,
  x: number,
  rule: SpikeRule,
  countFloor: boolean,
  hasHistory: boolean,
  winsorizeK: number,
): number {
  if (!hasHistory) return x;
  const clip = mean + winsorizeK * effectiveSpread(mean, spread, rule, countFloor);
  return x > clip ? clip : x;
}
