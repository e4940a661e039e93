import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { VigilError } from '../errors.js';
import { DIMENSIONS, isDimension, type Comparator, type Dimension, type GroupLabels, type Severity } from '../model/index.js';
import { describeValue } from './describe-value.js';
import { formatDuration, tryParseDuration } from './duration.js';
import { closestMatch, formatKeyPath, type KeyPathSegment, type RuleIssue } from './rule-issue.js';
import { viewIdOf } from './rule-views.js';

/** What the engine knows about one signal, so a rules file can be checked against it. */
export interface SignalCatalogueEntry {
  /** True when `stat` (e.g. `p99`, `count`, `mean`) can be computed for this signal. */
  isValidStat(stat: string): boolean;
  /** Human description of the valid stats, quoted in errors, e.g. `p0-p100 (p99.9 allowed), count, mean, min, max`. */
  statHint: string;
  /** Unit of the signal's values, e.g. `ms`; shown in alert messages. Counts print without it. */
  unit?: string;
}

/** The signals a rules file may name, by signal name (e.g. `latency`, `ttft`). Supplied by the engine. */
export interface SignalCatalogue {
  signals: Readonly<Record<string, SignalCatalogueEntry>>;
}

/** Engine facts a rules file is validated against. */
export interface RuleParseContext {
  /** The signal operators' slide in ms; every rule window must be a positive multiple of it. */
  slideMs: number;
  /** Longest window the engine retains, in ms; no limit when absent. */
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
  readonly groupBy: readonly Dimension[];
  /** Only spans whose dimensions equal these values count; keys sorted. */
  readonly filter: Readonly<GroupLabels>;
  readonly windowMs: number;
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
  'op',
  'threshold',
  'for',
  'severity',
  'minCount',
  'hysteresis',
  'resolveFor',
] as const;

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
  const issues: Array<{ path: KeyPathSegment[]; message: string }> = [];
  if (!result.success) {
    for (const issue of result.error.issues) issues.push(...describeIssue(issue, data));
  }
  issues.push(...crossFieldIssues(data, ctx));
  if (issues.length > 0 || !result.success) {
    // Zod reports per-object in schema order; regroup by rule so the listing follows the file.
    const ruleIndex = (p: readonly KeyPathSegment[]): number => (p[0] === 'rules' && typeof p[1] === 'number' ? p[1] : -1);
    const sorted = issues.map((issue, i) => ({ issue, i })).sort((a, b) => ruleIndex(a.issue.path) - ruleIndex(b.issue.path) || a.i - b.i);
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
    const filter = sortedFilter(raw.filter);
    // The schema checked every entry with isDimension.
    const groupBy = raw.groupBy as Dimension[];
    const rule: RuleDefinition = {
      name: raw.name,
      ...(raw.description === undefined ? {} : { description: raw.description }),
      signal: raw.signal,
      stat: raw.stat,
      ...(entry.unit === undefined ? {} : { unit: entry.unit }),
      groupBy: Object.freeze([...groupBy]),
      filter: Object.freeze(filter),
      windowMs: raw.window,
      comparator: raw.op,
      threshold: raw.threshold,
      forMs: raw.for,
      severity: raw.severity,
      minCount: raw.minCount,
      hysteresis: raw.hysteresis,
      resolveForMs: raw.resolveFor,
      viewId: viewIdOf({ signal: raw.signal, groupBy, windowMs: raw.window, filter, stats: [raw.stat] }),
    };
    return Object.freeze(rule);
  });
}

function rulesFileSchema(ctx: RuleParseContext) {
  const slide = formatDuration(ctx.slideMs);
  const dimension = z.string().superRefine((d, c) => {
    if (!isDimension(d)) c.addIssue({ code: 'custom', message: `${describeValue(d)} is not a dimension (${DIMENSIONS.join(', ')})` });
  });
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
    // Checked against the rule's signal in crossFieldIssues, which sees the signal even when other keys fail.
    stat: z.string(),
    groupBy: z
      .array(dimension)
      .superRefine((dims, c) => {
        dims.forEach((d, i) => {
          if (dims.indexOf(d) !== i) c.addIssue({ code: 'custom', path: [i], message: `"${d}" is listed twice` });
        });
      })
      .default([]),
    filter: z
      .record(
        dimension,
        z.string().superRefine((v, c) => {
          if (v === '') c.addIssue({ code: 'custom', message: 'a filter value cannot be empty' });
        }),
      )
      .default({}),
    window: durationField(true, (ms, shown) => {
      if (ms === 0) return `window must be longer than 0`;
      if (ms % ctx.slideMs !== 0) return `${shown} is not a multiple of the slide (${slide})`;
      if (ctx.maxWindowMs !== undefined && ms > ctx.maxWindowMs) {
        return `${shown} is longer than the engine's maximum window (${formatDuration(ctx.maxWindowMs)})`;
      }
      return undefined;
    }),
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
function durationField(required: boolean, check?: (ms: number, shown: string) => string | undefined) {
  const field = z.unknown().transform((raw, c): number => {
    const parsed = raw === undefined ? ({ ok: false, reason: MISSING } as const) : tryParseDuration(raw);
    const problem = parsed.ok ? check?.(parsed.ms, typeof raw === 'string' ? raw.trim() : formatDuration(parsed.ms)) : parsed.reason;
    if (!parsed.ok || problem !== undefined) {
      c.addIssue({ code: 'custom', message: problem ?? MISSING });
      return z.NEVER;
    }
    return parsed.ms;
  });
  return required ? field : field.default(0);
}

/** Turns one zod issue into path + message pairs; unknown keys give one pair per key. */
function describeIssue(issue: z.core.$ZodIssue, data: unknown): Array<{ path: KeyPathSegment[]; message: string }> {
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
      const allowed: readonly string[] = path.length === 0 ? TOP_LEVEL_KEYS : RULE_KEYS;
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

/** Checks that need two keys of a rule or several rules: stat against signal, and unique names. */
function crossFieldIssues(data: unknown, ctx: RuleParseContext): Array<{ path: KeyPathSegment[]; message: string }> {
  const rules = valueAt(data, ['rules']);
  if (!Array.isArray(rules)) return [];
  const issues: Array<{ path: KeyPathSegment[]; message: string }> = [];
  const firstByName = new Map<string, number>();
  rules.forEach((rule: unknown, i) => {
    if (!isPlainObject(rule)) return;
    const { signal, stat, name } = rule;
    if (typeof signal === 'string' && typeof stat === 'string' && Object.hasOwn(ctx.catalogue.signals, signal)) {
      const entry = ctx.catalogue.signals[signal];
      if (!entry.isValidStat(stat)) {
        issues.push({ path: ['rules', i, 'stat'], message: `${describeValue(stat)} is not a stat of ${signal}; expected ${entry.statHint}` });
      }
    }
    if (typeof name === 'string') {
      const first = firstByName.get(name);
      if (first === undefined) firstByName.set(name, i);
      else issues.push({ path: ['rules', i, 'name'], message: `duplicate rule name ${describeValue(name)} (also used by rules[${first}])` });
    }
  });
  return issues;
}

function checkContext(ctx: RuleParseContext): void {
  if (!Number.isSafeInteger(ctx.slideMs) || ctx.slideMs <= 0) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `slide must be a positive whole number of milliseconds, got ${ctx.slideMs}`);
  }
  if (ctx.maxWindowMs !== undefined && !(ctx.maxWindowMs >= ctx.slideMs)) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `maximum window (${ctx.maxWindowMs} ms) must be at least the slide (${ctx.slideMs} ms)`);
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

function sortedFilter(filter: Record<string, string>): GroupLabels {
  const out: GroupLabels = {};
  for (const key of Object.keys(filter).sort()) out[key as Dimension] = filter[key];
  return out;
}
