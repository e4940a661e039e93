import type { VigilConfig } from '../config/vigil-config.js';
import type { SignalCatalogue, SignalCatalogueEntry } from '../rules/index.js';
import { describeSignals } from '../signals/signal-pipeline.js';

/**
 * The signals rules may name, with the statistics, dimensions, sub-window and retention of each, as
 * the engine built from these window settings answers them (see `GET /v1/signals`).
 */
export function signalCatalogue(windows: Pick<VigilConfig['windows'], 'slide' | 'retention' | 'slowSubWindow' | 'slowRetention'>): SignalCatalogue {
  const signals: Record<string, SignalCatalogueEntry> = {};
  for (const s of describeSignals({ slideMs: windows.slide, retentionMs: windows.retention, slowSubWindowMs: windows.slowSubWindow, slowRetentionMs: windows.slowRetention })) {
    signals[s.name] = {
      isValidStat: (stat) => s.isValidStat(stat),
      statHint: s.statHint,
      ...(s.unit === undefined ? {} : { unit: s.unit }),
      dimensions: s.dimensions,
      slideMs: s.subWindowMs,
      maxWindowMs: s.retentionMs,
      requiresBaseline: (stat) => stat === 'psi',
    };
  }
  return { signals };
}
