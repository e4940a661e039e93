import { join } from 'node:path';
import type { SchedulerLike } from 'rxjs';
import { loadPriceTable, type PriceTable } from '../../operators/cost/price-table.js';
import type { UserTrackerInit } from '../../operators/users/user-activity-tracker.js';
import { packageRoot } from '../codec/schemas.js';
import type { VigilConfig } from '../config/vigil-config.js';
import { loadRulesFile, type RuleDefinition } from '../rules/index.js';
import { signalCatalogue } from './signal-catalogue.js';
import { VigilEngine } from './vigil-engine.js';

/** The default rules file shipped with Vigil, used when a config or command names none. */
export function defaultRulesFile(): string {
  return join(packageRoot(), 'rules', 'default-rules.yaml');
}

/** The rules `vigil demo` runs: the defaults with windows sized for its compressed timeline. */
export function demoRulesFile(): string {
  return join(packageRoot(), 'rules', 'demo-rules.yaml');
}

/** The engine settings a config gives: its windows and signals sections. */
export type EngineSettings = Pick<VigilConfig, 'windows' | 'signals'>;

/** Loads and validates a rules file against the engine's window settings and signals. */
export async function loadRules(path: string, settings: EngineSettings): Promise<RuleDefinition[]> {
  const w = settings.windows;
  return loadRulesFile(path, { slideMs: w.slide, maxWindowMs: w.retention, catalogue: signalCatalogue(w) });
}

/** The price table a config names: the shipped list prices or its own file, plus its overrides. */
export function priceTableOf(settings: EngineSettings): PriceTable {
  const p = settings.signals.prices;
  const table = p.file === undefined ? loadPriceTable() : loadPriceTable(p.file);
  return p.overrides.length > 0 ? table.withOverrides(p.overrides) : table;
}

/** The per-user detector settings of a config's `signals.users`. */
export function userTrackerInit(settings: EngineSettings): UserTrackerInit {
  const u = settings.signals.users;
  return {
    bucketMs: u.bucket,
    minHistoryBuckets: u.minHistoryBuckets,
    rate: { globalCap: u.rateGlobalCap, k: u.rateK },
    probingThreshold: u.probingThreshold,
    probingWindowMs: u.probingWindow,
    idleEvictAfterMs: u.idleEvictAfter,
    maxUsers: u.maxUsers,
  };
}

/** Builds an engine from the `windows` and `signals` parts of a config and a list of rules. */
export function createEngine(
  settings: EngineSettings,
  rules: readonly RuleDefinition[],
  options: { idle?: boolean; scheduler?: SchedulerLike; merged?: boolean } = {},
): VigilEngine {
  const w = settings.windows;
  const s = settings.signals;
  // A group-wide engine's channels are partition tasks: their checkpoints already waited for late
  // events, and a task that falls silent is one whose owner died, which the group must wait for.
  const merged = options.merged === true;
  return new VigilEngine({
    merged,
    slideMs: w.slide,
    windowMs: w.window,
    retentionMs: w.retention,
    allowedLatenessMs: merged ? 0 : w.allowedLateness,
    idleAdvanceAfterMs: options.idle === false || merged ? undefined : w.idleAdvanceAfter,
    slowSubWindowMs: w.slowSubWindow,
    slowRetentionMs: w.slowRetention,
    scheduler: options.scheduler,
    prices: priceTableOf(settings),
    scanInjection: s.scanInjection,
    scanPii: s.scanPii,
    requestTimeoutMs: s.requestTimeout,
    users: userTrackerInit(settings),
    rules,
  });
}
