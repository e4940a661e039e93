import { PERCENTILE_SIGNALS, parseStat } from '../../operators/index.js';
import type { SignalCatalogue } from '../rules/index.js';

/**
 * The signals rules may name, with the statistics each supports. The latency family (`latency` of
 * every span's `durationMs`, `ttft` of streaming spans' `ttftMs`) supports `count`, `mean`, `min`,
 * `max` and percentiles written `p50`, `p99`, `p99.9`.
 */
export function signalCatalogue(): SignalCatalogue {
  const signals: SignalCatalogue['signals'] = {};
  for (const name of PERCENTILE_SIGNALS) {
    (signals as Record<string, SignalCatalogue['signals'][string]>)[name] = {
      isValidStat: (stat) => parseStat(stat) !== undefined,
      statHint: 'p<percentile> (e.g. p50, p99, p99.9), count, mean, min, max',
      unit: 'ms',
    };
  }
  return { signals };
}
