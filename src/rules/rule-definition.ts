import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { VigilError } from '../errors.js';
import { DIMENSIONS, type BaselineSpec, type Comparator, type Severity } from '../model/index.js';
import { describeValue } from './describe-value.js';
import { formatDuration, tryParseDuration } from './duration.js';
import { closestMatch, formatKeyPath, type KeyPathSegment, type RuleIssue } from './rule-issue.js';
import { viewIdOf, viewSpecOf } from './rule-views.js';

/** What the engine knows about one signal, so a rules file can be checked against it. */
export interface SignalCatalogueEntry {
  /** True when `stat` (e.g. `p99`, `count`, `mean`) can be computed for this signal. */
  isValidStat(stat: string): boolean;
  /** Human description of the valid stats, quoted in errors, e.g. `p0-p100 (p99.9 allowed), count, mean, min, max`. */
  statHint: string;
  /** Unit of the signal's values, e.g. `ms`; shown in alert messages. Counts print without it. */
  unit?: string;
  /** The dimensions a rule may group and filter this signal by; default {@link DIMENSIONS}. */
  dimensions?: readonly string[];
  /**
   * The signal's sub-window in ms: its rules' windows and baseline windows must be multiples of it.
   * Default: the context's `slideMs`.
   */
  slideMs?: number;
  /** Longest window plus baseline window the engine retains for this signal, in ms. Default: the context's `maxWindowMs`. */
  maxWindowMs?: number;
  /** True when `stat` (e.g. `psi`) is only defined against a baseline window, so a rule using it needs `baseline`. */
  requiresBaseline?(stat: string): boolean;
}

/** The signals a rules file may name, by signal name (e.g. `latency`, `ttft`). Supplied by the engine. */
export interface SignalCatalogue {
  signals: Readonly<Record<string, SignalCatalogueEntry>>;
}

/** Engine facts a rules file is validated against. */
export interface RuleParseContext {
  /** The signal operators' slide in ms: the sub-window of every signal whose catalogue entry gives none. */
  slideMs: number;
  /** Longest window (plus baseline) the engine retains, in ms, for signals whose entry gives none; no limit when absent. */
  maxWindowMs?: number;
  catalogue: SignalCatalogue;
}

/**
 * One validated alert rule. Durations are milliseconds; the YAML `op` is `comparator`, `window` is
 * `windowMs`, `for` is `forMs` and `resolveFor` is `resolveForMs`.
 */
export interface RuleDefinition {
  /** Unique within the file; matches `[A-Za-z0-9_.-]+`. */
  readonly name: string;
  readonly description?: string;
  readonly signal: string;
  readonly stat: string;
  /** Unit of the signal from the catalogue (e.g. `ms`), for messages. */
  readonly unit?: string;
  /** Dimensions of the rule's signal to group by, in the order they form the group key. */
  readonly groupBy: readonly string[];
  /** Only events whose dimensions equal these values count; keys sorted. */
  readonly filter: Readonly<Record<string, string>>;
  readonly windowMs: number;
  /**
   * Compare the stat over `windowMs` with its value over the `baseline.windowMs` just before it. The
   * value tested against `threshold` is then current − baseline (`difference`), current / baseline
   * (`ratio`) or (current − baseline) / baseline (`relative`); the rule's view computes it, so its
   * snapshots carry the compared value. A stat that needs a baseline (`psi`) is itself computed against it.
   */
  readonly baseline?: Readonly<BaselineSpec>;
  readonly comparator: Comparator;
  readonly threshold: number;
  /** How long the condition must hold before FIRING; 0 fires at the first holding evaluation. */
  readonly forMs: number;
  readonly severity: Severity;
  /** A group with fewer events in the window never holds the condition, and a FIRING one clears. */
  readonly minCount: number;
  /** Fraction of |threshold| the value must move back past the threshold before a FIRING alert clears. */
  readonly hysteresis: number;
  /** How long the clear condition must hold before RESOLVED. */
  readonly resolveForMs: number;
  /** Id of the {@link SignalView} whose snapshots this rule evaluates (see `ruleViewOf`). */
  readonly viewId: string;
}

/** The keys a rule may have in a rules file, in documentation order. */
export const RULE_KEYS = [
  'name',
  'description',
  'signal',
  'stat',
  'groupBy',
  'filter',
  'window',
  'baseline',
  'op',
  'threshold',
  'for',
  'severity',
  'minCount',
  'hysteresis',
  'resolveFor',
] as const;

/** The keys of a rule's `baseline` mapping. */
const BASELINE_KEYS = ['window', 'compare'] as const;
const BASELINE_COMPARES: ReadonlyArray<BaselineSpec['compare']> = ['difference', 'ratio', 'relative'];
const TOP_LEVEL_KEYS = ['rules'] as const;
const COMPARATORS: readonly Comparator[] = ['>', '>=', '<', '<='];
const SEVERITIES: readonly Severity[] = ['INFO', 'WARNING', 'CRITICAL'];
const NAME_RE = /^[A-Za-z0-9_.-]+$/;
const MISSING = 'required key is missing';
const DEFAULT_SOURCE = '<rules>';

/**
 * Parses and validates a rules file's YAML text. Reports every problem at once.
 *
 * @param sourceName Prefix of every error line, usually the file path.
 * @throws VigilError `VIGIL_RULES_INVALID` whose message has one line per problem,
 *   `<source>: <key path>: <what is wrong>`, and whose `details.issues` lists them as {@link RuleIssue}s
 *   (with the YAML line when known). YAML syntax errors read `<source>: line L, column C: …`.
 */
export function parseRulesYaml(text: string, ctx: RuleParseContext, sourceName: string = DEFAULT_SOURCE): RuleDefinition[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e): RuleIssue => {
      const pos = e.linePos?.[0];
      const what = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      return pos === undefined
        ? { path: '', message: `YAML syntax error: ${what}` }
        : { path: '', message: `line ${pos.line}, column ${pos.col}: YAML syntax error: ${what}`, line: pos.line };
    });
    throw rulesError(sourceName, issues);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw rulesError(sourceName, [{ path: '', message: `YAML could not be read: ${(err as Error).message}` }], err);
  }
  return validateRules(data, ctx, sourceName, (path) => lineOf(doc, lineCounter, path));
}

/**
 * Validates an already-parsed rules document (`{ rules: [...] }`, e.g. from JSON or built in code)
 * exactly as {@link parseRulesYaml} does.
 *
 * @throws VigilError `VIGIL_RULES_INVALID` as for {@link parseRulesYaml}, without line numbers.
 */
export function parseRules(data: unknown, ctx: RuleParseContext, sourceName: string = DEFAULT_SOURCE): RuleDefinition[] {
  return validateRules(data, ctx, sourceName, () => undefined);
}

/**
 * Reads and parses a rules file; the path names the file in error messages.
 *
 * @throws VigilError `VIGIL_FILE_UNREADABLE` when the file cannot be read, `VIGIL_RULES_INVALID` when it is invalid.
 */
export async function loadRulesFile(path: string, ctx: RuleParseContext): Promise<RuleDefinition[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new VigilError('VIGIL_FILE_UNREADABLE', `${path}: cannot read rules file: ${(err as Error).message}`, {
      cause: err,
      details: { path },
    });
  }
  return parseRulesYaml(text, ctx, path);
}

function validateRules(
  data: unknown,
  ctx: RuleParseContext,
  source: string,
  lineAt: (path: readonly KeyPathSegment[]) => number | undefined,
): RuleDefinition[] {
  checkContext(ctx);
  const result = rulesFileSchema(ctx).safeParse(data);
  const issues: PathIssue[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) issues.push(...describeIssue(issue, data));
  }
  issues.push(...crossFieldIssues(data, ctx));
  if (issues.length > 0 || !result.success) {
    // Zod and the cross-field checks each report in their own order; sort so the listing goes rule by rule, key by key.
    const sorted = issues
      .map((issue, i) => ({ issue, i, order: issueOrder(issue.path, data) }))
      .sort((a, b) => compareOrders(a.order, b.order) || a.i - b.i);
    throw rulesError(
      source,
      sorted.map(({ issue }) => {
        const line = lineAt(issue.path);
        const out: RuleIssue = { path: formatKeyPath(issue.path), message: issue.message };
        if (line !== undefined) out.line = line;
        return out;
      }),
    );
  }
  return result.data.rules.map((raw) => {
    const entry = ctx.catalogue.signals[raw.signal];
    const fields: Omit<RuleDefinition, 'viewId'> = {
      name: raw.name,
      ...(raw.description === undefined ? {} : { description: raw.description }),
      signal: raw.signal,
      stat: raw.stat,
      ...(entry.unit === undefined ? {} : { unit: entry.unit }),
      groupBy: Object.freeze([...raw.groupBy]),
      filter: Object.freeze(sortedFilter(raw.filter)),
      windowMs: raw.window,
      ...(raw.baseline === undefined ? {} : { baseline: Object.freeze({ windowMs: raw.baseline.window, compare: raw.baseline.compare }) }),
      comparator: raw.op,
      threshold: raw.threshold,
      forMs: raw.for,
      severity: raw.severity,
      minCount: raw.minCount,
      hysteresis: raw.hysteresis,
      resolveForMs: raw.resolveFor,
    };
    return Object.freeze({ ...fields, viewId: viewIdOf(viewSpecOf(fields)) });
  });
}

/**
 * The shape of a rules file. What depends on the rule's signal (stat, dimensions, window and
 * baseline limits) is checked in {@link crossFieldIssues}, which sees the signal even when other keys fail.
 */
function rulesFileSchema(ctx: RuleParseContext) {
  const rule = z.strictObject({
    name: z.string().superRefine((name, c) => {
      if (!NAME_RE.test(name)) {
        c.addIssue({ code: 'custom', message: `${describeValue(name)} is not a valid rule name: use letters, digits, "_", "." and "-" only` });
      }
    }),
    description: z.string().optional(),
    signal: z.string().superRefine((signal, c) => {
      if (!Object.hasOwn(ctx.catalogue.signals, signal)) {
        const known = Object.keys(ctx.catalogue.signals);
        const hint = closestMatch(signal, known);
        c.addIssue({
          code: 'custom',
          message: `unknown signal ${describeValue(signal)}${hint === undefined ? '' : ` (did you mean "${hint}"?)`}; known signals: ${known.join(', ')}`,
        });
      }
    }),
    stat: z.string(),
    groupBy: z
      .array(z.string())
      .superRefine((dims, c) => {
        dims.forEach((d, i) => {
          if (dims.indexOf(d) !== i) c.addIssue({ code: 'custom', path: [i], message: `"${d}" is listed twice` });
        });
      })
      .default([]),
    filter: z
      .record(
        z.string(),
        z.string().superRefine((v, c) => {
          if (v === '') c.addIssue({ code: 'custom', message: 'a filter value cannot be empty' });
        }),
      )
      .default({}),
    window: durationField(true, (ms) => (ms === 0 ? 'window must be longer than 0' : undefined)),
    baseline: z
      .strictObject({
        window: durationField(true, (ms) => (ms === 0 ? 'baseline window must be longer than 0' : undefined)),
        compare: z
          .unknown()
          .transform((raw, c): BaselineSpec['compare'] => {
            const lower = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
            const known = BASELINE_COMPARES.find((m) => m === lower);
            if (known !== undefined) return known;
            c.addIssue({ code: 'custom', message: `expected one of ${BASELINE_COMPARES.join(', ')}, got ${describeValue(raw)}` });
            return z.NEVER;
          })
          .default('difference'),
      })
      .optional(),
    op: z.unknown().transform((raw, c): Comparator => {
      if (typeof raw === 'string' && (COMPARATORS as readonly string[]).includes(raw.trim())) return raw.trim() as Comparator;
      const message =
        raw === undefined
          ? MISSING
          : `expected one of ${COMPARATORS.map((o) => `"${o}"`).join(', ')}, got ${describeValue(raw)}` +
            (raw === '' || raw === null ? ' (quote the operator in YAML, e.g. op: ">")' : '');
      c.addIssue({ code: 'custom', message });
      return z.NEVER;
    }),
    threshold: z.number(),
    for: durationField(false),
    severity: z.unknown().transform((raw, c): Severity => {
      const upper = typeof raw === 'string' ? raw.trim().toUpperCase() : undefined;
      if (upper !== undefined && (SEVERITIES as readonly string[]).includes(upper)) return upper as Severity;
      c.addIssue({ code: 'custom', message: raw === undefined ? MISSING : `expected one of info, warning, critical, got ${describeValue(raw)}` });
      return z.NEVER;
    }),
    minCount: z
      .number()
      .superRefine((n, c) => {
        if (!Number.isSafeInteger(n) || n < 1) c.addIssue({ code: 'custom', message: `expected a whole number ≥ 1, got ${n}` });
      })
      .default(1),
    hysteresis: z
      .number()
      .superRefine((h, c) => {
        if (!(h >= 0 && h < 1)) c.addIssue({ code: 'custom', message: `expected a fraction in [0, 1), got ${h}` });
      })
      .default(0.1),
    resolveFor: durationField(false),
  });
  return z.strictObject({ rules: z.array(rule) });
}

/** A duration key checked by `check`; absent, it is an issue when required and 0 otherwise. */
function durationField(required: boolean, check?: (ms: number) => string | undefined) {
  const field = z.unknown().transform((raw, c): number => {
    const parsed = raw === undefined ? ({ ok: false, reason: MISSING } as const) : tryParseDuration(raw);
    const problem = parsed.ok ? check?.(parsed.ms) : parsed.reason;
    if (!parsed.ok || problem !== undefined) {
      c.addIssue({ code: 'custom', message: problem ?? MISSING });
      return z.NEVER;
    }
    return parsed.ms;
  });
  return required ? field : field.default(0);
}

/** Turns one zod issue into path + message pairs; unknown keys give one pair per key. */
function describeIssue(issue: z.core.$ZodIssue, data: unknown): PathIssue[] {
  const path = issue.path.filter((p): p is KeyPathSegment => typeof p !== 'symbol');
  const raw = valueAt(data, path);
  switch (issue.code) {
    case 'invalid_type': {
      if (path.length === 0) {
        return [{ path, message: `expected a mapping with a "rules" list, got ${raw === null || raw === undefined ? 'an empty document' : describeValue(raw)}` }];
      }
      if (raw === undefined) return [{ path, message: MISSING }];
      const expected = issue.expected === 'number' && typeof raw === 'number' ? 'a finite number' : expectedName(issue.expected);
      return [{ path, message: `expected ${expected}, got ${describeValue(raw)}` }];
    }
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(path);
      return issue.keys.map((key) => {
        const hint = closestMatch(key, allowed);
        return {
          path: [...path, key],
          message: `unknown key "${key}"` + (hint === undefined ? `; allowed keys: ${allowed.join(', ')}` : ` (did you mean "${hint}"?)`),
        };
      });
    }
    case 'invalid_key':
      return [{ path, message: issue.issues.map((i) => i.message).join('; ') }];
    default:
      return [{ path, message: issue.message }];
  }
}

/**
 * Checks that need two keys of a rule or several rules: everything that depends on the rule's
 * signal (stat, groupBy and filter dimensions, window and baseline against the signal's sub-window
 * and retention), and unique names. Checks against the signal are skipped while it is unknown.
 */
function crossFieldIssues(data: unknown, ctx: RuleParseContext): PathIssue[] {
  const rules = valueAt(data, ['rules']);
  if (!Array.isArray(rules)) return [];
  const issues: PathIssue[] = [];
  const firstByName = new Map<string, number>();
  rules.forEach((rule: unknown, i) => {
    if (!isPlainObject(rule)) return;
    const { signal, name } = rule;
    if (typeof signal === 'string' && Object.hasOwn(ctx.catalogue.signals, signal)) {
      issues.push(...signalIssues(rule, i, signalLimits(signal, ctx.catalogue.signals[signal], ctx)));
    }
    if (typeof name === 'string') {
      const first = firstByName.get(name);
      if (first === undefined) firstByName.set(name, i);
      else issues.push({ path: ['rules', i, 'name'], message: `duplicate rule name ${describeValue(name)} (also used by rules[${first}])` });
    }
  });
  return issues;
}

/** A problem at a key path, before the path is formatted. */
interface PathIssue {
  path: KeyPathSegment[];
  message: string;
}

/** One catalogue entry with the context's defaults filled in, and how errors name its limits. */
interface SignalLimits {
  signal: string;
  entry: SignalCatalogueEntry;
  dimensions: readonly string[];
  slideMs: number;
  maxWindowMs: number | undefined;
  /** `the slide (10s)`, or `eval_score's sub-window (1m)` when the signal has its own. */
  slideName: string;
  /** `the engine's maximum window (1h)`, or `eval_score's maximum window (25h)` when the signal has its own; empty without a limit. */
  maxName: string;
}

function signalLimits(signal: string, entry: SignalCatalogueEntry, ctx: RuleParseContext): SignalLimits {
  const slideMs = entry.slideMs ?? ctx.slideMs;
  const maxWindowMs = entry.maxWindowMs ?? ctx.maxWindowMs;
  return {
    signal,
    entry,
    dimensions: entry.dimensions ?? DIMENSIONS,
    slideMs,
    maxWindowMs,
    slideName: slideMs === ctx.slideMs ? `the slide (${formatDuration(slideMs)})` : `${signal}'s sub-window (${formatDuration(slideMs)})`,
    maxName:
      maxWindowMs === undefined
        ? ''
        : maxWindowMs === ctx.maxWindowMs
          ? `the engine's maximum window (${formatDuration(maxWindowMs)})`
          : `${signal}'s maximum window (${formatDuration(maxWindowMs)})`,
  };
}

/** The problems of rule `i` that depend on its (known) signal. */
function signalIssues(rule: Record<string | number, unknown>, i: number, limits: SignalLimits): PathIssue[] {
  const { signal, entry, dimensions } = limits;
  const issues: PathIssue[] = [];
  const at = (...path: KeyPathSegment[]): KeyPathSegment[] => ['rules', i, ...path];
  const { stat, groupBy, filter, window, baseline } = rule;
  if (typeof stat === 'string') {
    if (!entry.isValidStat(stat)) {
      issues.push({ path: at('stat'), message: `${describeValue(stat)} is not a stat of ${signal}; expected ${entry.statHint}` });
    } else if (baseline === undefined && entry.requiresBaseline?.(stat) === true) {
      issues.push({ path: at('stat'), message: `${stat} needs a baseline` });
    }
  }
  const notADimension = (d: string): string =>
    `${describeValue(d)} is not a dimension of ${signal} (${dimensions.length === 0 ? 'it has none' : dimensions.join(', ')})`;
  if (Array.isArray(groupBy)) {
    groupBy.forEach((d: unknown, j) => {
      if (typeof d === 'string' && !dimensions.includes(d)) issues.push({ path: at('groupBy', j), message: notADimension(d) });
    });
  }
  if (isPlainObject(filter)) {
    for (const d of Object.keys(filter)) {
      if (!dimensions.includes(d)) issues.push({ path: at('filter', d), message: notADimension(d) });
    }
  }
  const windowMs = checkWindow(window, limits, at('window'), issues);
  if (isPlainObject(baseline)) {
    const baselineMs = checkWindow(baseline.window, limits, at('baseline', 'window'), issues);
    const max = limits.maxWindowMs;
    if (windowMs !== undefined && baselineMs !== undefined && max !== undefined && windowMs + baselineMs > max) {
      issues.push({
        path: at('baseline', 'window'),
        message: `${shownDuration(baseline.window, baselineMs)} plus the window (${shownDuration(window, windowMs)}) is longer than ${limits.maxName}`,
      });
    }
  }
  return issues;
}

/**
 * Checks a window (or baseline window) against the signal's sub-window and retention, adding the
 * problem at `path`. Returns the milliseconds when they fit; undefined when they do not, or are not a
 * positive duration (the schema reports that).
 */
function checkWindow(raw: unknown, limits: SignalLimits, path: KeyPathSegment[], issues: PathIssue[]): number | undefined {
  const parsed = raw === undefined ? undefined : tryParseDuration(raw);
  if (parsed === undefined || !parsed.ok || parsed.ms === 0) return undefined;
  const shown = shownDuration(raw, parsed.ms);
  if (parsed.ms % limits.slideMs !== 0) {
    issues.push({ path, message: `${shown} is not a multiple of ${limits.slideName}` });
    return undefined;
  }
  if (limits.maxWindowMs !== undefined && parsed.ms > limits.maxWindowMs) {
    issues.push({ path, message: `${shown} is longer than ${limits.maxName}` });
    return undefined;
  }
  return parsed.ms;
}

/** A duration as the file wrote it when it was text, else in the coarsest exact unit. */
function shownDuration(raw: unknown, ms: number): string {
  return typeof raw === 'string' ? raw.trim() : formatDuration(ms);
}

/** The keys a mapping at `path` may have, for unknown-key messages. */
function allowedKeysAt(path: readonly KeyPathSegment[]): readonly string[] {
  if (path.length === 0) return TOP_LEVEL_KEYS;
  if (path.length === 3 && path[0] === 'rules' && path[2] === 'baseline') return BASELINE_KEYS;
  return RULE_KEYS;
}

/**
 * Where an issue sorts: by rule, then by key in documentation order (unknown keys last), then by
 * position inside the key's value (list index, or mapping key in file order). Issues outside any
 * rule sort first.
 */
function issueOrder(path: readonly KeyPathSegment[], data: unknown): number[] {
  if (!(path[0] === 'rules' && typeof path[1] === 'number')) return [-1];
  const order = [path[1]];
  for (let k = 2; k < path.length; k++) {
    const segment = path[k];
    if (typeof segment === 'number') {
      order.push(segment);
      continue;
    }
    const prefix = path.slice(0, k);
    const keys: readonly string[] =
      k === 2 ? RULE_KEYS : k === 3 && prefix[2] === 'baseline' ? BASELINE_KEYS : Object.keys(asPlainObject(valueAt(data, prefix)));
    const rank = keys.indexOf(segment);
    order.push(rank < 0 ? keys.length : rank);
  }
  return order;
}

function compareOrders(a: readonly number[], b: readonly number[]): number {
  for (let k = 0; k < Math.min(a.length, b.length); k++) {
    if (a[k] !== b[k]) return a[k] - b[k];
  }
  return a.length - b.length;
}

function asPlainObject(value: unknown): Record<string | number, unknown> {
  return isPlainObject(value) ? value : {};
}

function checkContext(ctx: RuleParseContext): void {
  if (!Number.isSafeInteger(ctx.slideMs) || ctx.slideMs <= 0) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `slide must be a positive whole number of milliseconds, got ${ctx.slideMs}`);
  }
  if (ctx.maxWindowMs !== undefined && !(ctx.maxWindowMs >= ctx.slideMs)) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `maximum window (${ctx.maxWindowMs} ms) must be at least the slide (${ctx.slideMs} ms)`);
  }
  for (const [signal, entry] of Object.entries(ctx.catalogue.signals)) {
    const path = (key: string): string => formatKeyPath(['catalogue', 'signals', signal, key]);
    if (entry.slideMs !== undefined && (!Number.isSafeInteger(entry.slideMs) || entry.slideMs <= 0)) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `${path('slideMs')}: sub-window must be a positive whole number of milliseconds, got ${entry.slideMs}`);
    }
    const slideMs = entry.slideMs ?? ctx.slideMs;
    const maxWindowMs = entry.maxWindowMs ?? ctx.maxWindowMs;
    if ((entry.slideMs !== undefined || entry.maxWindowMs !== undefined) && maxWindowMs !== undefined && !(maxWindowMs >= slideMs)) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `${path('maxWindowMs')}: maximum window (${maxWindowMs} ms) must be at least the sub-window (${slideMs} ms)`);
    }
  }
}

function rulesError(source: string, issues: RuleIssue[], cause?: unknown): VigilError {
  const lines = issues.map((i) => (i.path === '' ? `${source}: ${i.message}` : `${source}: ${i.path}: ${i.message}`));
  return new VigilError('VIGIL_RULES_INVALID', lines.join('\n'), { cause, details: { source, issues } });
}

function lineOf(doc: Document, lineCounter: LineCounter, path: readonly KeyPathSegment[]): number | undefined {
  // A missing key has no node; point at the nearest enclosing one instead.
  for (let n = path.length; n >= 0; n--) {
    const node: unknown = doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range !== undefined) return lineCounter.linePos(range[0]).line;
  }
  return undefined;
}

function expectedName(expected: string): string {
  switch (expected) {
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping';
    default:
      return expected;
  }
}

function valueAt(data: unknown, path: readonly KeyPathSegment[]): unknown {
  let current = data;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number') current = current[segment];
    else if (isPlainObject(current) && Object.hasOwn(current, segment)) current = current[segment];
    else return undefined;
  }
  return current;
}

function isPlainObject(value: unknown): value is Record<string | number, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sortedFilter(filter: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(filter).sort()) out[key] = filter[key];
  return out;
}
