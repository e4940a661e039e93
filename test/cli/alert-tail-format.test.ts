import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTailLine, useColour } from '../../src/cli/alert-tail-format.js';
import { sampleAlert } from '../codec/span-fixtures.js';

describe('formatTailLine', () => {
  it('shows time, state, severity, rule, group, value against threshold and the message, two spaces apart', () => {
    assert.equal(
      formatTailLine(sampleAlert()),
      '2025-01-01 00:00:00Z  FIRING    CRITICAL  latency-p99-high  model=gpt-4o,service=chat-api  p99 latency 2,413 (> 2,000)  latency p99 2412.5 ms > 2000 ms for model=gpt-4o,service=chat-api',
    );
  });

  it('pads RESOLVED and small values the same way', () => {
    const line = formatTailLine(sampleAlert({ state: 'RESOLVED', severity: 'WARNING', stat: 'timeout_rate', signal: 'errors', value: 0.0123, threshold: 0.05, message: 'back to normal' }));
    assert.equal(line, '2025-01-01 00:00:00Z  RESOLVED  WARNING   latency-p99-high  model=gpt-4o,service=chat-api  timeout_rate errors 0.0123 (> 0.05)  back to normal');
  });

  it('colours FIRING by severity and RESOLVED green when asked, and nothing otherwise', () => {
    assert.ok(formatTailLine(sampleAlert(), true).includes('\x1b[31m\x1b[1mFIRING'));
    assert.ok(formatTailLine(sampleAlert({ severity: 'WARNING' }), true).includes('\x1b[33mFIRING'));
    assert.ok(formatTailLine(sampleAlert({ state: 'RESOLVED' }), true).includes('\x1b[32mRESOLVED'));
    assert.ok(!formatTailLine(sampleAlert()).includes('\x1b['));
  });
});

describe('useColour', () => {
  it('colours only a terminal, and not when NO_COLOR is set', () => {
    assert.equal(useColour({ isTTY: true }, {}), true);
    assert.equal(useColour({ isTTY: false }, {}), false);
    assert.equal(useColour({}, {}), false);
    assert.equal(useColour({ isTTY: true }, { NO_COLOR: '1' }), false);
  });
});
