import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertText, jsonWebhookMessage, readableNumber, severityAtLeast, slackMessage } from '../../src/forwarders/webhook-payload.js';
import { sampleAlert } from '../codec/span-fixtures.js';

describe('slackMessage', () => {
  it('has a fallback text and a headline block with state, severity, rule, group and the message', () => {
    const msg = slackMessage(sampleAlert());
    assert.equal(msg.text, ':red_circle: FIRING critical latency-p99-high (model=gpt-4o,service=chat-api): latency p99 2412.5 ms &gt; 2000 ms for model=gpt-4o,service=chat-api');
    const [section, context] = msg.blocks ?? [];
    assert.equal(section.type, 'section');
    assert.ok(section.type === 'section' && section.text.text.startsWith(':red_circle: *FIRING* · critical · `latency-p99-high` · `model=gpt-4o,service=chat-api`\n'));
    assert.equal(context.type, 'context');
    assert.ok(context.type === 'context' && context.elements[0].text.includes('p99 latency 2,413 (&gt; 2,000) · window 5m · 1,402 events'));
  });

  it('escapes the characters Slack treats as markup', () => {
    const msg = slackMessage(sampleAlert({ message: 'a < b & c > d' }));
    assert.ok(msg.text.endsWith('a &lt; b &amp; c &gt; d'));
  });

  it('marks a RESOLVED alert with a check mark', () => {
    assert.ok(slackMessage(sampleAlert({ state: 'RESOLVED' })).text.startsWith(':white_check_mark: RESOLVED'));
  });
});

describe('jsonWebhookMessage', () => {
  it('carries the plain one-line text and the whole alert event', () => {
    const alert = sampleAlert();
    assert.deepEqual(jsonWebhookMessage(alert), { text: alertText(alert), alert });
  });
});

describe('severityAtLeast', () => {
  it('orders info below warning below critical', () => {
    assert.equal(severityAtLeast('INFO', 'warning'), false);
    assert.equal(severityAtLeast('WARNING', 'warning'), true);
    assert.equal(severityAtLeast('CRITICAL', 'warning'), true);
    assert.equal(severityAtLeast('WARNING', 'critical'), false);
    assert.equal(severityAtLeast('INFO', 'info'), true);
  });
});

describe('readableNumber', () => {
  it('shows whole numbers from 1,000 up and four significant digits below', () => {
    assert.equal(readableNumber(9412.37), '9,412');
    assert.equal(readableNumber(0.072345), '0.07235');
    assert.equal(readableNumber(3), '3');
  });
});
