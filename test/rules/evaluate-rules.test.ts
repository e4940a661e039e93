import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TestScheduler } from 'rxjs/testing';
import type { AlertEvent, SignalSnapshot } from '../../src/model/index.js';
import { evaluateRules, RuleSet, ruleViewOf } from '../../src/rules/index.js';
import { boundary, makeSnapshot } from '../helpers/snapshot-factory.js';
import { ruleOf } from './rule-fixtures.js';

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
}

/** A rule firing above 8000 for gpt-4o, and snapshots: h = high (fires), l = low (resolves), e = empty. */
function fixture() {
  const rule = ruleOf({ name: 'p99' });
  const view = ruleViewOf(rule);
  const at = (i: number, value: number | null): SignalSnapshot =>
    makeSnapshot(view, boundary(i), value === null ? [] : [{ labels: { model: 'gpt-4o' }, count: 10, value }]);
  return { rule, view, at };
}

/** The alerts a fresh rule set emits for `snapshots`, to build expected marble values from. */
function alertsFor(snapshots: readonly SignalSnapshot[]): AlertEvent[] {
  const set = new RuleSet([fixture().rule]);
  return snapshots.flatMap((s) => set.evaluate(s));
}

describe('evaluateRules', () => {
  it('emits each alert of each snapshot, in order', () => {
    const { rule, at } = fixture();
    const a = at(0, 9000);
    const b = at(1, 9500);
    const c = at(2, 100);
    const [firing, resolved] = alertsFor([a, b, c]);
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a, b, c });
      expectObservable(source.pipe(evaluateRules(new RuleSet([rule])))).toBe('-f---r-|', { f: firing, r: resolved });
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });

  it('emits several alerts of one snapshot in the same frame', () => {
    const rules = [ruleOf({ name: 'warn', threshold: 5000 }), ruleOf({ name: 'crit', threshold: 8000 })];
    const snapshot = fixture().at(0, 9000);
    const set = new RuleSet(rules);
    const [w, c] = new RuleSet(rules).evaluate(snapshot);
    testScheduler().run(({ cold, expectObservable }) => {
      // A group takes as many frames as it has characters: (wc) spans frames 1–4.
      expectObservable(cold('-s-----|', { s: snapshot }).pipe(evaluateRules(set))).toBe('-(wc)--|', { w, c });
    });
  });

  it('completes without alerts on an empty source, and emits nothing for quiet snapshots', () => {
    const { rule, at } = fixture();
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<SignalSnapshot>('|').pipe(evaluateRules(new RuleSet([rule])))).toBe('|');
      expectObservable(cold('-a-b-|', { a: at(0, 100), b: at(1, null) }).pipe(evaluateRules(new RuleSet([rule])))).toBe('-----|');
    });
  });

  it('passes an upstream error through', () => {
    const { rule, at } = fixture();
    const [firing] = alertsFor([at(0, 9000)]);
    testScheduler().run(({ cold, expectObservable }) => {
      const err = new Error('upstream');
      expectObservable(cold('-a-#', { a: at(0, 9000) }, err).pipe(evaluateRules(new RuleSet([rule])))).toBe('-f-#', { f: firing }, err);
    });
  });

  it('sends an error thrown by evaluation downstream and unsubscribes the source', () => {
    const { at } = fixture();
    const boom = new Error('evaluation failed');
    const evaluator = {
      evaluate: (s: SignalSnapshot): AlertEvent[] => {
        if (s.windowEnd === boundary(1)) throw boom;
        return [];
      },
    };
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: at(0, 1), b: at(1, 1), c: at(2, 1) });
      expectObservable(source.pipe(evaluateRules(evaluator))).toBe('---#', undefined, boom);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('stops evaluating when the subscriber unsubscribes', () => {
    const { rule, at } = fixture();
    const set = new RuleSet([rule]);
    const [firing] = alertsFor([at(0, 9000)]);
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a--b--c-|', { a: at(0, 9000), b: at(1, 100), c: at(2, 9000) });
      expectObservable(source.pipe(evaluateRules(set)), '^--!').toBe('-f--', { f: firing });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    assert.equal(set.recent().length, 1, 'later snapshots were never evaluated');
    assert.equal(set.firing().length, 1);
  });
});
