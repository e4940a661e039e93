import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigilError } from '../../src/errors.js';
import { formatDuration, parseDuration, tryParseDuration } from '../../src/rules/index.js';

describe('parseDuration', () => {
  it('reads ms, s, m, h and d', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('0s'), 0);
  });

  it('takes a number as milliseconds', () => {
    assert.equal(parseDuration(1500), 1500);
    assert.equal(parseDuration(0), 0);
  });

  it('accepts a fraction when it comes to whole milliseconds', () => {
    assert.equal(parseDuration('1.5m'), 90_000);
    assert.equal(parseDuration('0.5s'), 500);
    assert.throws(() => parseDuration('0.5ms'), /not a whole number of milliseconds/);
  });

  it('refuses a bare number in a string, naming the missing unit', () => {
    assert.throws(() => parseDuration('10'), /"10" has no unit; write 10ms, 10s/);
  });

  it('refuses unknown units, negative and fractional-millisecond values with a VIGIL_RULES_INVALID error', () => {
    for (const bad of ['10x', '5 minutes', '', 'm', '-5s', -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => parseDuration(bad),
        (err) => isVigilError(err, 'VIGIL_RULES_INVALID') && err.message.length > 0,
        `${String(bad)} should be refused`,
      );
    }
    assert.throws(() => parseDuration('-5s'), /cannot be negative/);
    assert.throws(() => parseDuration('10x'), /"10x" is not a duration \(use a number followed by ms, s, m, h or d/);
  });

  it('raises the error code it is given', () => {
    assert.throws(() => parseDuration('soon', 'VIGIL_CONFIG_INVALID'), (err) => isVigilError(err, 'VIGIL_CONFIG_INVALID'));
  });

  it('reports without throwing through tryParseDuration', () => {
    assert.deepEqual(tryParseDuration('2m'), { ok: true, ms: 120_000 });
    const bad = tryParseDuration(true);
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.reason, /expected a duration .* got true/);
  });
});

describe('formatDuration', () => {
  it('uses the coarsest unit that is exact', () => {
    assert.equal(formatDuration(300_000), '5m');
    assert.equal(formatDuration(90_000), '90s');
    assert.equal(formatDuration(7_000), '7s');
    assert.equal(formatDuration(1_500), '1500ms');
    assert.equal(formatDuration(3_600_000), '1h');
    assert.equal(formatDuration(86_400_000), '1d');
    assert.equal(formatDuration(0), '0s');
  });

  it('produces text that parses back to the same milliseconds', () => {
    for (const ms of [1, 999, 1000, 61_000, 120_000, 5_400_000, 172_800_000]) assert.equal(parseDuration(formatDuration(ms)), ms);
  });
});
