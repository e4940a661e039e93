import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { alertIdOf } from '../../src/rules/index.js';

describe('alertIdOf', () => {
  it('is the first 32 hex characters of the SHA-256 of rule, group key and episode start joined by NUL', () => {
    const expected = createHash('sha256').update('model-p99-latency\u0000model=gpt-4o\u00001735689600000').digest('hex').slice(0, 32);
    assert.equal(alertIdOf('model-p99-latency', 'model=gpt-4o', 1_735_689_600_000), expected);
    assert.match(expected, /^[0-9a-f]{32}$/);
  });

  it('changes with each of its inputs and cannot be forged by moving text between them', () => {
    const ids = new Set([
      alertIdOf('r', 'model=a', 1),
      alertIdOf('r', 'model=a', 2),
      alertIdOf('r', 'model=b', 1),
      alertIdOf('s', 'model=a', 1),
      alertIdOf('r\u0000model=a', '1', 1),
    ]);
    assert.equal(ids.size, 5);
  });
});
