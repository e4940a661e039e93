import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firingMessage, resolvedMessage } from '../../src/rules/alert-message.js';
import { evalDropRule, ruleOf } from './rule-fixtures.js';

const GPT = { model: 'gpt-4o' };
const JUDGE = { evaluator: 'judge', metric: 'faithfulness' };

describe('firingMessage', () => {
  it('says how far a baseline difference dropped, against which baseline window', () => {
    assert.equal(
      firingMessage(evalDropRule(), JUDGE, -0.14),
      'mean eval_score by evaluator=judge, metric=faithfulness dropped by 0.14 vs the previous 24h (< -0.1) over 15m [warning]',
    );
  });

  it('says how far a baseline difference rose, in the signal\'s unit', () => {
    const rule = ruleOf({ baseline: { window: '55m' }, threshold: 1000 });
    assert.equal(firingMessage(rule, GPT, 1200), 'p99 latency by model=gpt-4o rose by 1,200 ms vs the previous 55m (> 1,000) over 5m [critical]');
    assert.equal(
      firingMessage(ruleOf({ baseline: { window: '55m' }, op: '>=', threshold: 0 }), GPT, 0),
      'p99 latency by model=gpt-4o is unchanged vs the previous 55m (>= 0) over 5m [critical]',
    );
  });

  it('gives a ratio to the baseline as a multiple and a relative change as a percentage', () => {
    assert.equal(
      firingMessage(ruleOf({ baseline: { window: '50m', compare: 'ratio' }, window: '1m', threshold: 2 }), GPT, 2.4),
      'p99 latency by model=gpt-4o is 2.4× the previous 50m (> 2×) over 1m [critical]',
    );
    assert.equal(
      firingMessage(ruleOf({ baseline: { window: '30m', compare: 'relative' }, threshold: 0.2 }), GPT, 0.35),
      'p99 latency by model=gpt-4o rose by 35% vs the previous 30m (> 20%) over 5m [critical]',
    );
    assert.equal(
      firingMessage(evalDropRule({ baseline: { window: '1d', compare: 'relative' }, threshold: -0.2 }), JUDGE, -0.25),
      'mean eval_score by evaluator=judge, metric=faithfulness dropped by 25% vs the previous 24h (< -20%) over 15m [warning]',
    );
  });

  it('gives the difference of two rates in percentage points', () => {
    const rule = ruleOf({ signal: 'errors', stat: 'timeout_rate', baseline: { window: '55m' }, threshold: 0.02 });
    assert.equal(firingMessage(rule, GPT, 0.031), 'timeout_rate of errors by model=gpt-4o rose by 3.1 pp vs the previous 55m (> 2 pp) over 5m [critical]');
  });

  it('shows a population stability index as measured against the baseline, whatever the comparison', () => {
    const rule = evalDropRule({ stat: 'psi', groupBy: ['evaluator'], op: '>', threshold: 0.2 });
    assert.equal(firingMessage(rule, JUDGE, 0.31), 'psi eval_score by evaluator=judge is 0.31 against the previous 24h (> 0.2) over 15m [warning]');
  });

  it('shows rates and ratios of counters as percentages, without the signal\'s unit', () => {
    assert.equal(
      firingMessage(ruleOf({ signal: 'errors', stat: 'timeout_rate', threshold: 0.05 }), GPT, 0.072),
      'timeout_rate of errors by model=gpt-4o is 7.2% (> 5%) over 5m [critical]',
    );
    assert.equal(
      firingMessage(ruleOf({ signal: 'errors', stat: 'timeout/error', threshold: 0.25, severity: 'info' }), GPT, 0.4),
      'timeout/error of errors by model=gpt-4o is 40% (> 25%) over 5m [info]',
    );
    assert.equal(
      firingMessage(ruleOf({ signal: 'errors', stat: 'rate_limit/error', groupBy: [], threshold: 0.5 }), {}, 0.6123),
      'rate_limit/error of errors is 61.23% (> 50%) over 5m [critical]',
    );
  });

  it('shows counts, counter sums and per-minute rates without a unit', () => {
    assert.equal(
      firingMessage(ruleOf({ signal: 'errors', stat: 'timeout', threshold: 10 }), GPT, 42),
      'timeout of errors by model=gpt-4o is 42 (> 10) over 5m [critical]',
    );
    assert.equal(
      firingMessage(ruleOf({ signal: 'cost', stat: 'input_tokens', groupBy: ['tenant'], threshold: 1_000_000 }), { tenant: 'acme' }, 1_234_567),
      'input_tokens of cost by tenant=acme is 1,234,567 (> 1,000,000) over 5m [critical]',
    );
    assert.equal(
      firingMessage(ruleOf({ signal: 'errors', stat: 'count_per_min', groupBy: [], threshold: 10 }), {}, 12.5),
      'count_per_min of errors is 12.5/min (> 10) over 5m [critical]',
    );
    assert.equal(firingMessage(ruleOf({ signal: 'request_cost', stat: 'count', threshold: 100 }), GPT, 120), 'count request_cost by model=gpt-4o is 120 (> 100) over 5m [critical]');
  });

  it('shows US dollars with a $ and four significant digits, the threshold as configured', () => {
    assert.equal(
      firingMessage(ruleOf({ signal: 'request_cost', stat: 'mean', groupBy: ['service'], threshold: 0.01 }), { service: 'chat-api' }, 0.0123456),
      'mean request_cost by service=chat-api is $0.01235 (> $0.01) over 5m [critical]',
    );
    assert.equal(
      firingMessage(ruleOf({ signal: 'cost', stat: 'usd', groupBy: ['tenant'], threshold: 10_000 }), { tenant: 'acme' }, 12_345.67),
      'usd of cost by tenant=acme is $12,350 (> $10,000) over 5m [critical]',
    );
    assert.equal(
      firingMessage(ruleOf({ signal: 'request_cost', stat: 'p99', baseline: { window: '55m' }, op: '<', threshold: -0.5 }), GPT, -1.23456),
      'p99 request_cost by model=gpt-4o dropped by $1.235 vs the previous 55m (< -$0.5) over 5m [critical]',
    );
  });

  it('shows other distributions in the catalogue unit, and user anomalies with the user', () => {
    assert.equal(
      firingMessage(ruleOf({ signal: 'output_length', stat: 'p95', threshold: 1000, severity: 'warning' }), GPT, 1234.4),
      'p95 output_length by model=gpt-4o is 1,234 chars (> 1,000) over 5m [warning]',
    );
    assert.equal(
      firingMessage(ruleOf({ signal: 'users', stat: 'rate_spike', groupBy: ['user'], threshold: 0, window: '1m' }), { user: 'u-42' }, 340),
      'rate_spike of users by user=u-42 is 340 (> 0) over 1m [critical]',
    );
  });
});

describe('resolvedMessage', () => {
  it('says what a baseline comparison came back to', () => {
    assert.equal(
      resolvedMessage(evalDropRule(), JUDGE, -0.02, 40),
      'RESOLVED: mean eval_score by evaluator=judge, metric=faithfulness back to a drop of 0.02 vs the previous 24h (threshold -0.1) over 15m',
    );
    assert.equal(
      resolvedMessage(evalDropRule(), JUDGE, 0.05, 40),
      'RESOLVED: mean eval_score by evaluator=judge, metric=faithfulness back to a rise of 0.05 vs the previous 24h (threshold -0.1) over 15m',
    );
    assert.equal(
      resolvedMessage(evalDropRule(), JUDGE, 0, 40),
      'RESOLVED: mean eval_score by evaluator=judge, metric=faithfulness back to no change vs the previous 24h (threshold -0.1) over 15m',
    );
    assert.equal(
      resolvedMessage(ruleOf({ baseline: { window: '50m', compare: 'ratio' }, window: '1m', threshold: 2 }), GPT, 1.1, 40),
      'RESOLVED: p99 latency by model=gpt-4o back to 1.1× the previous 50m (threshold 2×) over 1m',
    );
  });

  it('formats rates, dollars and thresholds as the FIRING message does', () => {
    assert.equal(
      resolvedMessage(ruleOf({ signal: 'errors', stat: 'timeout_rate', threshold: 0.05 }), GPT, 0.015, 200),
      'RESOLVED: timeout_rate of errors by model=gpt-4o back to 1.5% (threshold 5%) over 5m',
    );
    assert.equal(
      resolvedMessage(ruleOf({ signal: 'request_cost', stat: 'mean', threshold: 0.01 }), GPT, 0.004, 200),
      'RESOLVED: mean request_cost by model=gpt-4o back to $0.004 (threshold $0.01) over 5m',
    );
    assert.equal(
      resolvedMessage(ruleOf({ signal: 'errors', stat: 'timeout_rate', threshold: 0.05, minCount: 50 }), GPT, 0.5, 3),
      'RESOLVED: timeout_rate of errors by model=gpt-4o had 3 events over 5m, fewer than minCount 50 (threshold 5%)',
    );
    assert.equal(
      resolvedMessage(evalDropRule(), JUDGE, 0, 0),
      'RESOLVED: mean eval_score by evaluator=judge, metric=faithfulness had no events over 15m (threshold -0.1)',
    );
  });
});
