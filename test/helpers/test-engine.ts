import { loadPriceTable } from '../../operators/cost/price-table.js';
import { VigilEngine, type VigilEngineOptions } from '../../src/engine/vigil-engine.js';
import { signalCatalogue } from '../../src/engine/signal-catalogue.js';
import { parseRulesYaml, type RuleDefinition } from '../../src/rules/index.js';

/** Window settings of a test engine, ms. */
export interface TestWindows {
  slideMs: number;
  windowMs: number;
  retentionMs: number;
  allowedLatenessMs: number;
  slowSubWindowMs?: number;
  slowRetentionMs?: number;
}

/** Rules parsed against the catalogue of an engine with these windows. */
export function testRules(yaml: string, w: TestWindows): RuleDefinition[] {
  const slowSubWindow = w.slowSubWindowMs ?? Math.max(60_000, w.slideMs);
  return parseRulesYaml(yaml, {
    slideMs: w.slideMs,
    maxWindowMs: w.retentionMs,
    catalogue: signalCatalogue({ slide: w.slideMs, retention: w.retentionMs, slowSubWindow, slowRetention: w.slowRetentionMs ?? 25 * 3_600_000 }),
  });
}

/** An engine with the shipped price table, these windows and these rules (YAML). */
export function testEngine(yaml: string, w: TestWindows, extra: Partial<VigilEngineOptions> = {}): VigilEngine {
  return new VigilEngine({ ...w, rules: testRules(yaml, w), prices: loadPriceTable(), ...extra });
}
