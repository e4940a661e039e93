import { join } from 'node:path';
import type { SchedulerLike } from 'rxjs';
import { packageRoot } from '../codec/schemas.js';
import type { VigilConfig } from '../config/vigil-config.js';
import { loadRulesFile, type RuleDefinition } from '../rules/index.js';
import { signalCatalogue } from './signal-catalogue.js';
import { VigilEngine } from './vigil-engine.js';

/** The rules file shipped with Vigil, used when a config or command names none. */
export function defaultRulesFile(): string {
  return join(packageRoot(), 'rules', 'example-rules.yaml');
}

/** Loads and validates a rules file against the engine's window settings and signals. */
export async function loadRules(path: string, windows: VigilConfig['windows']): Promise<RuleDefinition[]> {
  return loadRulesFile(path, { slideMs: windows.slide, maxWindowMs: windows.retention, catalogue: signalCatalogue() });
}

/** Builds an engine from the `windows` part of a config and a list of rules. */
export function createEngine(windows: VigilConfig['windows'], rules: readonly RuleDefinition[], options: { idle?: boolean; scheduler?: SchedulerLike } = {}): VigilEngine {
  return new VigilEngine({
    slideMs: windows.slide,
    windowMs: windows.window,
    retentionMs: windows.retention,
    allowedLatenessMs: windows.allowedLateness,
    idleAdvanceAfterMs: options.idle === false ? undefined : windows.idleAdvanceAfter,
    scheduler: options.scheduler,
    rules,
  });
}
