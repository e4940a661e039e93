import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isVigilError, type VigilError } from '../../src/errors.js';
import { loadRulesFile, parseRules, parseRulesYaml, ruleViewOf, ruleViews, type RuleIssue } from '../../src/rules/index.js';
import { CATALOGUE, CTX, EVAL_MAX_WINDOW_MS, evalDropRule, ruleOf, rulesOf, type RuleFields } from './rule-fixtures.js';

const BASE_RULE: ReadonlyArray<[string, string]> = [
  ['name', 'r'],
  ['signal', 'latency'],
  ['stat', 'p99'],
  ['groupBy', '[model]'],
  ['window', '5m'],
  ['op', '">"'],
  ['threshold', '8000'],
  ['severity', 'critical'],
];

/**
 * A valid rule as a `rules:` list item, one key a line, with `changes` applied: a string replaces or
 * appends a key's YAML value, undefined removes the key.
 */
function ruleYaml(changes: Record<string, string | undefined> = {}): string {
  const entries = new Map<string, string | undefined>(BASE_RULE);
  for (const [key, value] of Object.entries(changes)) entries.set(key, value);
  const lines = [...entries].filter((e): e is [string, string] => e[1] !== undefined).map(([k, v]) => `    ${k}: ${v}`);
  lines[0] = '  - ' + lines[0].trimStart();
  return lines.join('\n');
}

/** A rules file of the given rule items. */
function rulesFile(...items: string[]): string {
  return ['rules:', ...items].join('\n') + '\n';
}

/** A rules file of one valid rule with one key changed (or removed when `value` is undefined). */
function withKey(key: string, value: string | undefined): string {
  return rulesFile(ruleYaml({ [key]: value }));
}

/** The VIGIL_RULES_INVALID error `fn` throws. */
function rulesErrorOf(fn: () => unknown): VigilError {
  try {
    fn();
  } catch (err) {
    assert.ok(isVigilError(err, 'VIGIL_RULES_INVALID'), `expected VIGIL_RULES_INVALID, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a VIGIL_RULES_INVALID error');
}

function issuesOf(err: VigilError): RuleIssue[] {
  return err.details.issues as RuleIssue[];
}

/** The `path: message` lines of the error validating one rule made of `fields` (see `ruleOf`). */
function problemsOf(fields: RuleFields): string[] {
  return issuesOf(rulesErrorOf(() => ruleOf(fields))).map((i) => `${i.path}: ${i.message}`);
}

/** An eval-score rule with `fields` changed, as for {@link problemsOf}. */
function evalRule(fields: RuleFields = {}): RuleFields {
  return { signal: 'eval_score', stat: 'mean', groupBy: ['evaluator', 'metric'], window: '15m', op: '<', threshold: 0.7, ...fields };
}

describe('parseRulesYaml', () => {
  it('fills in the defaults of the optional keys', () => {
    const [rule] = parseRulesYaml(rulesFile(ruleYaml()), CTX);
    assert.deepEqual(
      { ...rule, viewId: undefined },
      {
        name: 'r',
        signal: 'latency',
        stat: 'p99',
        unit: 'ms',
        groupBy: ['model'],
        filter: {},
        windowMs: 300_000,
        comparator: '>',
        threshold: 8000,
        forMs: 0,
        severity: 'CRITICAL',
        minCount: 1,
        hysteresis: 0.1,
        resolveForMs: 0,
        viewId: undefined,
      },
    );
  });

  it('reads every key, with severity in any case', () => {
    const text = rulesFile(
      ruleYaml({
        name: 'full.rule_1',
        description: 'too slow',
        filter: '{ service: chat-api, tenant: acme }',
        for: '1m',
        severity: 'Warning',
        minCount: '20',
        hysteresis: '0',
        resolveFor: '30s',
      }),
    );
    const [rule] = parseRulesYaml(text, CTX);
    assert.equal(rule.description, 'too slow');
    assert.deepEqual(rule.filter, { service: 'chat-api', tenant: 'acme' });
    assert.equal(rule.forMs, 60_000);
    assert.equal(rule.severity, 'WARNING');
    assert.equal(rule.minCount, 20);
    assert.equal(rule.hysteresis, 0);
    assert.equal(rule.resolveForMs, 30_000);
  });

  it('accepts an empty list of rules', () => {
    assert.deepEqual(parseRulesYaml('rules: []\n', CTX), []);
  });

  it('names the file, the key path and the offending value when a threshold is not a number', () => {
    const text = rulesFile(ruleYaml({ name: 'a' }), ruleYaml({ name: 'b', threshold: 'abc' }));
    const err = rulesErrorOf(() => parseRulesYaml(text, CTX, 'rules.yaml'));
    assert.equal(err.message, 'rules.yaml: rules[1].threshold: expected a number, got "abc"');
    assert.deepEqual(issuesOf(err), [{ path: 'rules[1].threshold', message: 'expected a number, got "abc"', line: 16 }]);
    assert.equal(err.details.source, 'rules.yaml');
  });

  it('refuses a window that is not a multiple of the slide', () => {
    const err = rulesErrorOf(() => parseRulesYaml(withKey('window', '7s'), CTX, 'rules.yaml'));
    assert.equal(err.message, 'rules.yaml: rules[0].window: 7s is not a multiple of the slide (10s)');
  });

  it('refuses a window longer than the engine retains, and an empty window', () => {
    assert.match(rulesErrorOf(() => parseRulesYaml(withKey('window', '2h'), CTX)).message, /rules\[0\]\.window: 2h is longer than the engine's maximum window \(1h\)/);
    assert.match(rulesErrorOf(() => parseRulesYaml(withKey('window', '0s'), CTX)).message, /rules\[0\]\.window: window must be longer than 0/);
    assert.match(rulesErrorOf(() => parseRulesYaml(withKey('window', 'soon'), CTX)).message, /rules\[0\]\.window: "soon" is not a duration/);
    assert.doesNotThrow(() => parseRulesYaml(withKey('window', '2h'), { ...CTX, maxWindowMs: undefined }));
  });

  it('names the index of a groupBy entry that is not a dimension, listing the dimensions of the signal', () => {
    const text = rulesFile(ruleYaml({ name: 'a' }), ruleYaml({ name: 'b' }), ruleYaml({ name: 'c', groupBy: '[region, model]' }));
    const err = rulesErrorOf(() => parseRulesYaml(text, CTX, 'rules.yaml'));
    assert.equal(err.message, 'rules.yaml: rules[2].groupBy[0]: "region" is not a dimension of latency (service, operation, model, provider, tenant)');
  });

  it('refuses a dimension listed twice in groupBy', () => {
    assert.match(rulesErrorOf(() => parseRulesYaml(withKey('groupBy', '[model, model]'), CTX)).message, /rules\[0\]\.groupBy\[1\]: "model" is listed twice/);
  });

  it('refuses filter keys that are not dimensions and filter values that are not strings', () => {
    const err = rulesErrorOf(() => parseRulesYaml(withKey('filter', '{ region: eu, tenant: 42 }'), CTX));
    assert.deepEqual(
      issuesOf(err).map((i) => `${i.path}: ${i.message}`),
      ['rules[0].filter.region: "region" is not a dimension of latency (service, operation, model, provider, tenant)', 'rules[0].filter.tenant: expected a string, got 42'],
    );
  });

  it('reports duplicate rule names at the second use, naming the first', () => {
    const err = rulesErrorOf(() => parseRulesYaml(rulesFile(ruleYaml({ name: 'same' }), ruleYaml({ name: 'other' }), ruleYaml({ name: 'same' })), CTX, 'rules.yaml'));
    assert.equal(err.message, 'rules.yaml: rules[2].name: duplicate rule name "same" (also used by rules[0])');
  });

  it('reports an unknown key by name, suggesting the key it was probably meant to be', () => {
    const text = rulesFile(ruleYaml({ threshold: undefined, treshold: '8000' }));
    const err = rulesErrorOf(() => parseRulesYaml(text, CTX, 'rules.yaml'));
    assert.deepEqual(err.message.split('\n'), [
      'rules.yaml: rules[0].threshold: required key is missing',
      'rules.yaml: rules[0].treshold: unknown key "treshold" (did you mean "threshold"?)',
    ]);
  });

  it('lists the allowed keys when an unknown key resembles none', () => {
    const err = rulesErrorOf(() => parseRulesYaml(rulesFile(ruleYaml({ colour: 'red' })), CTX));
    assert.match(err.message, /rules\[0\]\.colour: unknown key "colour"; allowed keys: name, description, signal, stat, groupBy, filter, window, baseline, op, threshold, for, severity, minCount, hysteresis, resolveFor$/);
  });

  it('reports unknown top-level keys and a missing rules list', () => {
    const err = rulesErrorOf(() => parseRulesYaml('rulez: []\n', CTX, 'rules.yaml'));
    assert.deepEqual(err.message.split('\n'), ['rules.yaml: rules: required key is missing', 'rules.yaml: rulez: unknown key "rulez" (did you mean "rules"?)']);
  });

  it('refuses an empty document and a rules entry that is not a mapping', () => {
    assert.equal(rulesErrorOf(() => parseRulesYaml('', CTX, 'rules.yaml')).message, 'rules.yaml: expected a mapping with a "rules" list, got an empty document');
    assert.equal(rulesErrorOf(() => parseRulesYaml('rules: {}', CTX, 'rules.yaml')).message, 'rules.yaml: rules: expected a list, got a mapping');
    assert.equal(rulesErrorOf(() => parseRulesYaml('rules:\n  - just-a-name\n', CTX, 'rules.yaml')).message, 'rules.yaml: rules[0]: expected a mapping, got "just-a-name"');
  });

  it('reports YAML syntax errors with line and column', () => {
    const err = rulesErrorOf(() => parseRulesYaml('rules:\n  - name: a\n    name: b\n', CTX, 'rules.yaml'));
    assert.equal(err.message, 'rules.yaml: line 3, column 5: YAML syntax error: Map keys must be unique');
    assert.equal(issuesOf(err)[0].line, 3);
    assert.match(rulesErrorOf(() => parseRulesYaml('rules:\n  - [x\n', CTX, 'rules.yaml')).message, /^rules\.yaml: line \d+, column \d+: YAML syntax error: /);
  });

  it('checks the signal and its stat against the catalogue', () => {
    assert.match(
      rulesErrorOf(() => parseRulesYaml(withKey('signal', 'latncy'), CTX)).message,
      /rules\[0\]\.signal: unknown signal "latncy" \(did you mean "latency"\?\); known signals: latency, ttft/,
    );
    assert.match(
      rulesErrorOf(() => parseRulesYaml(withKey('stat', 'p101'), CTX)).message,
      /rules\[0\]\.stat: "p101" is not a stat of latency; expected p<percentile> \(e\.g\. p50, p99, p99\.9\), count, mean, min, max/,
    );
    assert.equal(parseRulesYaml(withKey('stat', 'p99.9'), CTX)[0].stat, 'p99.9');
  });

  it('explains an unquoted comparator, which YAML reads as an empty block scalar', () => {
    const err = rulesErrorOf(() => parseRulesYaml(withKey('op', '>'), CTX));
    assert.match(err.message, /rules\[0\]\.op: expected one of ">", ">=", "<", "<=", got "" \(quote the operator in YAML, e\.g\. op: ">"\)/);
    assert.match(rulesErrorOf(() => parseRulesYaml(withKey('op', 'gt'), CTX)).message, /rules\[0\]\.op: expected one of .*, got "gt"$/);
  });

  it('names the key path of every other out-of-range value', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['name', '"bad name"', /rules\[0\]\.name: "bad name" is not a valid rule name/],
      ['severity', 'urgent', /rules\[0\]\.severity: expected one of info, warning, critical, got "urgent"/],
      ['threshold', '.inf', /rules\[0\]\.threshold: expected a finite number, got Infinity/],
      ['for', '-1m', /rules\[0\]\.for: a duration cannot be negative/],
      ['resolveFor', '"30"', /rules\[0\]\.resolveFor: duration "30" has no unit/],
      ['minCount', '0', /rules\[0\]\.minCount: expected a whole number ≥ 1, got 0/],
      ['minCount', '2.5', /rules\[0\]\.minCount: expected a whole number ≥ 1, got 2\.5/],
      ['hysteresis', '1', /rules\[0\]\.hysteresis: expected a fraction in \[0, 1\), got 1/],
      ['hysteresis', '-0.1', /rules\[0\]\.hysteresis: expected a fraction in \[0, 1\), got -0\.1/],
      ['groupBy', 'model', /rules\[0\]\.groupBy: expected a list, got "model"/],
      ['description', '42', /rules\[0\]\.description: expected a string, got 42/],
    ];
    for (const [key, value, expected] of cases) {
      assert.match(rulesErrorOf(() => parseRulesYaml(withKey(key, value), CTX, 'rules.yaml')).message, expected, `${key}: ${value}`);
    }
  });

  it('reads a bare number in a duration key as milliseconds', () => {
    assert.equal(parseRulesYaml(withKey('resolveFor', '30000'), CTX)[0].resolveForMs, 30_000);
    assert.equal(parseRulesYaml(withKey('window', '300000'), CTX)[0].windowMs, 300_000);
  });

  it('reports a missing required key by its path', () => {
    for (const key of ['name', 'signal', 'stat', 'window', 'op', 'threshold', 'severity']) {
      const err = rulesErrorOf(() => parseRulesYaml(withKey(key, undefined), CTX, 'rules.yaml'));
      assert.equal(err.message, `rules.yaml: rules[0].${key}: required key is missing`);
    }
  });

  it('collects every problem of every rule, in file order, into details.issues', () => {
    const text = rulesFile(
      ruleYaml({ name: 'ok' }),
      ruleYaml({ name: 'b', threshold: 'abc', window: '7s' }),
      ruleYaml({ name: 'c', severity: 'loud' }),
      ruleYaml({ name: 'ok' }),
    );
    const err = rulesErrorOf(() => parseRulesYaml(text, CTX, 'rules.yaml'));
    const issues = issuesOf(err);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['rules[1].window', 'rules[1].threshold', 'rules[2].severity', 'rules[3].name'],
    );
    assert.deepEqual(err.message.split('\n'), issues.map((i) => `rules.yaml: ${i.path}: ${i.message}`));
    assert.ok(issues.every((i) => typeof i.line === 'number' && i.line > 1));
  });

  it('refuses an engine context whose slide is not a positive whole number of ms', () => {
    assert.throws(() => parseRulesYaml('rules: []', { ...CTX, slideMs: 0 }), (err) => isVigilError(err, 'VIGIL_CONFIG_INVALID'));
  });
});

describe('parseRules', () => {
  it('validates plain objects like YAML, without line numbers', () => {
    const err = rulesErrorOf(() => parseRules({ rules: [{ name: 'x' }] }, CTX, 'inline'));
    assert.match(err.message, /^inline: rules\[0\]\.signal: required key is missing$/m);
    assert.ok(issuesOf(err).every((i) => i.line === undefined));
  });
});

describe('loadRulesFile', () => {
  it('names the file in validation errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, rulesFile(ruleYaml({ threshold: 'abc' })));
    await assert.rejects(loadRulesFile(path, CTX), (err) => isVigilError(err, 'VIGIL_RULES_INVALID') && err.message === `${path}: rules[0].threshold: expected a number, got "abc"`);
  });

  it('reports a file it cannot read as VIGIL_FILE_UNREADABLE', async () => {
    await assert.rejects(loadRulesFile('/nonexistent/rules.yaml', CTX), (err) => isVigilError(err, 'VIGIL_FILE_UNREADABLE') && err.message.startsWith('/nonexistent/rules.yaml: '));
  });
});

describe('ruleViews', () => {
  it('gives rules that differ only in threshold, timing or severity one view', () => {
    const rules = rulesOf([
      { name: 'warn', threshold: 5000, severity: 'warning' },
      { name: 'crit', threshold: 8000, for: '1m' },
      { name: 'by-service', groupBy: ['service'] },
    ]);
    const views = ruleViews(rules);
    assert.equal(views.length, 2);
    assert.equal(rules[0].viewId, rules[1].viewId);
    assert.deepEqual(
      rules.map((r) => views.findIndex((v) => v.id === r.viewId)),
      [0, 0, 1],
    );
    assert.deepEqual(views[0], {
      id: 'signal=latency;groupBy=model;windowMs=300000;filter=;stats=p99',
      signal: 'latency',
      groupBy: ['model'],
      windowMs: 300_000,
      filter: {},
      stats: ['p99'],
    });
  });

  it('derives the id from the filter sorted by key but keeps the groupBy order', () => {
    const [a, b, c, d] = rulesOf([
      { name: 'a', filter: { tenant: 'acme', service: 'chat-api' }, groupBy: ['model', 'provider'] },
      { name: 'b', filter: { service: 'chat-api', tenant: 'acme' }, groupBy: ['model', 'provider'] },
      { name: 'c', filter: { service: 'chat-api', tenant: 'acme' }, groupBy: ['provider', 'model'] },
      { name: 'd', filter: { service: 'chat,api', tenant: 'acme' }, groupBy: ['model', 'provider'] },
    ]);
    assert.equal(a.viewId, b.viewId);
    assert.notEqual(b.viewId, c.viewId);
    assert.notEqual(b.viewId, d.viewId);
    assert.equal(a.viewId, 'signal=latency;groupBy=model,provider;windowMs=300000;filter=service:chat-api,tenant:acme;stats=p99');
    assert.equal(ruleViewOf(a).id, a.viewId);
  });

  it('gives different stats, windows and signals different views', () => {
    const rules = rulesOf([{ name: 'a' }, { name: 'b', stat: 'p50' }, { name: 'c', window: '1m' }, { name: 'd', signal: 'ttft' }]);
    assert.equal(new Set(rules.map((r) => r.viewId)).size, 4);
    assert.equal(ruleViews(rules).length, 4);
  });
});

describe('parseRules against the limits of the rule\'s signal', () => {
  it('accepts the dimensions, windows and filters of a signal with its own dimensions, sub-window and retention', () => {
    const rule = ruleOf(evalRule({ filter: { tenant: 'acme', evaluator: 'judge' }, window: '25h' }));
    assert.deepEqual(rule.groupBy, ['evaluator', 'metric']);
    assert.deepEqual(rule.filter, { evaluator: 'judge', tenant: 'acme' });
    assert.equal(rule.windowMs, EVAL_MAX_WINDOW_MS);
    assert.equal(ruleOf({ signal: 'users', stat: 'rate_spike', groupBy: ['user'], threshold: 0 }).groupBy[0], 'user');
  });

  it('refuses a groupBy or filter dimension the signal does not have, listing the signal\'s dimensions', () => {
    assert.deepEqual(problemsOf({ groupBy: ['model', 'evaluator'] }), [
      'rules[0].groupBy[1]: "evaluator" is not a dimension of latency (service, operation, model, provider, tenant)',
    ]);
    assert.deepEqual(problemsOf(evalRule({ groupBy: ['provider'], filter: { operation: 'chat' } })), [
      'rules[0].groupBy[0]: "provider" is not a dimension of eval_score (evaluator, metric, service, model, tenant)',
      'rules[0].filter.operation: "operation" is not a dimension of eval_score (evaluator, metric, service, model, tenant)',
    ]);
    assert.deepEqual(problemsOf({ signal: 'users', stat: 'probing', groupBy: [], filter: { model: 'gpt-4o' } }), [
      'rules[0].filter.model: "model" is not a dimension of users (user)',
    ]);
  });

  it('refuses a window that is not a multiple of the signal\'s own sub-window, naming it', () => {
    assert.deepEqual(problemsOf(evalRule({ window: '30s' })), ['rules[0].window: 30s is not a multiple of eval_score\'s sub-window (1m)']);
    assert.deepEqual(problemsOf(evalRule({ window: 90_000 })), ['rules[0].window: 90s is not a multiple of eval_score\'s sub-window (1m)']);
    assert.deepEqual(problemsOf({ window: '15s' }), ['rules[0].window: 15s is not a multiple of the slide (10s)']);
  });

  it('refuses a window longer than the signal\'s own retention, and allows one within it beyond the engine default', () => {
    assert.deepEqual(problemsOf(evalRule({ window: '26h' })), ['rules[0].window: 26h is longer than eval_score\'s maximum window (25h)']);
    assert.deepEqual(problemsOf({ window: '2h' }), ['rules[0].window: 2h is longer than the engine\'s maximum window (1h)']);
    assert.equal(ruleOf(evalRule({ window: '2h' })).windowMs, 7_200_000);
  });

  it('gives only the unknown-signal message for a rule whose signal is unknown, not guesses at its dimensions or window', () => {
    assert.deepEqual(problemsOf(evalRule({ signal: 'eval_scor', window: '30s' })), [
      'rules[0].signal: unknown signal "eval_scor" (did you mean "eval_score"?); known signals: latency, ttft, errors, cost, request_cost, output_length, eval_score, users',
    ]);
  });

  it('lists the problems of a rule in key order, whichever check found them', () => {
    assert.deepEqual(
      problemsOf({ threshold: 'high', window: '7s', groupBy: ['region'], stat: 'p101' }).map((line) => line.split(':')[0]),
      ['rules[0].stat', 'rules[0].groupBy[0]', 'rules[0].window', 'rules[0].threshold'],
    );
  });

  it('refuses a catalogue entry whose sub-window or retention is impossible, naming the entry', () => {
    const withEntry = (fields: Record<string, unknown>) => ({ ...CTX, catalogue: { signals: { ...CATALOGUE.signals, eval_score: { ...CATALOGUE.signals.eval_score, ...fields } } } });
    assert.throws(
      () => parseRules({ rules: [] }, withEntry({ slideMs: 0 })),
      (err) => isVigilError(err, 'VIGIL_CONFIG_INVALID') && err.message === 'catalogue.signals.eval_score.slideMs: sub-window must be a positive whole number of milliseconds, got 0',
    );
    assert.throws(
      () => parseRules({ rules: [] }, withEntry({ maxWindowMs: 30_000 })),
      (err) => isVigilError(err, 'VIGIL_CONFIG_INVALID') && err.message === 'catalogue.signals.eval_score.maxWindowMs: maximum window (30000 ms) must be at least the sub-window (60000 ms)',
    );
  });
});

describe('parseRules with a baseline', () => {
  it('reads the baseline window and comparison, defaulting to difference', () => {
    assert.deepEqual(evalDropRule().baseline, { windowMs: 86_400_000, compare: 'difference' });
    assert.deepEqual(evalDropRule({ baseline: { window: '1h', compare: 'Ratio' } }).baseline, { windowMs: 3_600_000, compare: 'ratio' });
    assert.deepEqual(ruleOf({ baseline: { window: '55m', compare: 'relative' } }).baseline, { windowMs: 3_300_000, compare: 'relative' });
    assert.equal(Object.hasOwn(ruleOf(), 'baseline'), false, 'no baseline key without a baseline');
  });

  it('reads a baseline from YAML', () => {
    const [rule] = parseRulesYaml(withKey('baseline', '{ window: 30m, compare: relative }'), CTX);
    assert.deepEqual(rule.baseline, { windowMs: 1_800_000, compare: 'relative' });
  });

  it('refuses a baseline window that is not a multiple of the signal\'s sub-window', () => {
    assert.deepEqual(problemsOf(evalRule({ baseline: { window: '90s' } })), ['rules[0].baseline.window: 90s is not a multiple of eval_score\'s sub-window (1m)']);
    assert.deepEqual(problemsOf({ baseline: { window: '25s' } }), ['rules[0].baseline.window: 25s is not a multiple of the slide (10s)']);
  });

  it('refuses a window plus baseline longer than the signal retains', () => {
    assert.deepEqual(problemsOf(evalRule({ baseline: { window: '24h' }, window: '2h' })), [
      'rules[0].baseline.window: 24h plus the window (2h) is longer than eval_score\'s maximum window (25h)',
    ]);
    assert.deepEqual(problemsOf({ baseline: { window: '56m' } }), [
      'rules[0].baseline.window: 56m plus the window (5m) is longer than the engine\'s maximum window (1h)',
    ]);
    assert.deepEqual(problemsOf({ baseline: { window: '2h' } }), ['rules[0].baseline.window: 2h is longer than the engine\'s maximum window (1h)']);
    assert.equal(ruleOf({ baseline: { window: '55m' } }).baseline?.windowMs, 3_300_000, 'exactly the maximum is allowed');
    const atLimit = evalDropRule({ window: '1h' });
    assert.equal(atLimit.windowMs + (atLimit.baseline?.windowMs ?? 0), EVAL_MAX_WINDOW_MS, 'and so is exactly the signal\'s maximum');
  });

  it('refuses an unknown comparison, a missing or empty baseline window, and a baseline that is not a mapping', () => {
    assert.deepEqual(problemsOf({ baseline: { window: '10m', compare: 'delta' } }), [
      'rules[0].baseline.compare: expected one of difference, ratio, relative, got "delta"',
    ]);
    assert.deepEqual(problemsOf({ baseline: { compare: 'ratio' } }), ['rules[0].baseline.window: required key is missing']);
    assert.deepEqual(problemsOf({ baseline: { window: '0s' } }), ['rules[0].baseline.window: baseline window must be longer than 0']);
    assert.deepEqual(problemsOf({ baseline: '24h' }), ['rules[0].baseline: expected a mapping, got "24h"']);
  });

  it('reports unknown keys inside baseline against the baseline\'s own keys', () => {
    assert.deepEqual(problemsOf({ baseline: { windw: '10m' } }), [
      'rules[0].baseline.window: required key is missing',
      'rules[0].baseline.windw: unknown key "windw" (did you mean "window"?)',
    ]);
    assert.deepEqual(problemsOf({ baseline: { window: '10m', colour: 'red' } }), ['rules[0].baseline.colour: unknown key "colour"; allowed keys: window, compare']);
  });

  it('names the baseline keys by YAML line', () => {
    const err = rulesErrorOf(() => parseRulesYaml(withKey('baseline', '\n      window: 7s\n      compare: ratio'), CTX, 'rules.yaml'));
    assert.deepEqual(issuesOf(err), [{ path: 'rules[0].baseline.window', message: '7s is not a multiple of the slide (10s)', line: 11 }]);
  });

  it('refuses a stat that needs a baseline in a rule without one', () => {
    assert.deepEqual(problemsOf({ signal: 'request_cost', stat: 'psi', threshold: 0.2 }), ['rules[0].stat: psi needs a baseline']);
    assert.equal(evalDropRule({ stat: 'psi', op: '>', threshold: 0.2 }).stat, 'psi');
    assert.deepEqual(problemsOf(evalRule({ stat: 'psi', baseline: '24h' })), ['rules[0].baseline: expected a mapping, got "24h"'], 'a malformed baseline is reported as such');
    assert.deepEqual(problemsOf({ stat: 'psi' }), [`rules[0].stat: "psi" is not a stat of latency; expected ${CATALOGUE.signals.latency.statHint}`]);
  });

  it('puts the baseline into the view and its id, so rules differing only in baseline read different views', () => {
    const rules = rulesOf([
      { name: 'plain' },
      { name: 'diff', baseline: { window: '30m' } },
      { name: 'diff-again', baseline: { window: '30m', compare: 'difference' }, threshold: 1 },
      { name: 'ratio', baseline: { window: '30m', compare: 'ratio' } },
      { name: 'longer', baseline: { window: '55m' } },
    ]);
    const views = ruleViews(rules);
    assert.equal(views.length, 4);
    assert.equal(rules[1].viewId, rules[2].viewId);
    assert.equal(rules[0].viewId, 'signal=latency;groupBy=model;windowMs=300000;filter=;stats=p99');
    assert.equal(rules[1].viewId, 'signal=latency;groupBy=model;windowMs=300000;filter=;stats=p99;baseline=1800000:difference');
    assert.deepEqual(ruleViewOf(rules[3]), {
      id: 'signal=latency;groupBy=model;windowMs=300000;filter=;stats=p99;baseline=1800000:ratio',
      signal: 'latency',
      groupBy: ['model'],
      windowMs: 300_000,
      filter: {},
      stats: ['p99'],
      baseline: { windowMs: 1_800_000, compare: 'ratio' },
    });
    assert.equal(Object.hasOwn(ruleViewOf(rules[0]), 'baseline'), false);
  });
});
