import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isJsonText } from '../../src/signals/json-syntax.js';
import { isValidJsonOutput } from '../../src/signals/span-enrichment.js';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function check(text: string): void {
  assert.equal(isJsonText(text), parses(text), JSON.stringify(text));
}

// mulberry32
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomValue(random: () => number, depth: number): unknown {
  const r = random();
  if (depth > 4 || r < 0.3) {
    const k = Math.floor(random() * 7);
    return [() => random() * 1e6 - 5e5, () => Math.floor(random() * 100), () => 'a"b\\c\n\u0001é😀\ud800', () => true, () => false, () => null, () => -0.000123e-7][k]();
  }
  if (r < 0.65) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(random() * 4); i > 0; i--) o[`k${Math.floor(random() * 10)}`] = randomValue(random, depth + 1);
  return o;
}

describe('isJsonText', () => {
  it('agrees with JSON.parse on hand-picked edge cases', () => {
    const cases = [
      '{}', '[]', ' { } ', '\t[\r\n]\n', '{"a":1}', '{"a":1,}', '[1,]', '[,1]', '{"a"}', '{"a":}', '{a:1}', "{'a':1}", '[1 2]', '[1,,2]',
      '[01]', '[-0]', '[-]', '[1.]', '[.5]', '[1e5]', '[1E+5]', '[1e-5]', '[1e]', '[1e+]', '[-01.5e3]', '[0.0e0]', '[1.5e3.2]', '[Infinity]', '[NaN]',
      '[true]', '[tru]', '[truex]', '[nul]', '[null ]', '[false,true,null]', '["\\u00e9"]', '["\\u00g9"]', '["\\x41"]', '["\\/"]', '["\\a"]',
      '["a\tb"]', '["a\u007fb"]', '["\ud800"]', '["unterminated]', '[1]]', '{"a":[1,{"b":null}]}', '{"a":1}{}', '[]x', '[] ', '\u00a0[]', '\ufeff[]',
      '[' .repeat(10_000) + ']'.repeat(10_000), '[' .repeat(10_000) + ']'.repeat(9_999), '"just a string"', '42', 'null', '', ' ', '{"a":1 "b":2}',
      '{"a":1,"a":2}', '{"":""}', '[[[]]]', '{"a":{"b":{"c":[]}}}', '[1,{"x":[2,{"y":3}]},"z"]',
    ];
    for (const c of cases) check(c);
  });

  it('agrees with JSON.parse on random documents and their corruptions', () => {
    const random = rng(99);
    for (let n = 0; n < 3000; n++) {
      const doc = JSON.stringify(randomValue(random, 0), null, random() < 0.3 ? 2 : undefined);
      check(doc);
      for (let m = 0; m < 5; m++) {
        const at = Math.floor(random() * (doc.length + 1));
        const pick = '{}[]",:0-.eE+tfn \\u1aZ\n'[Math.floor(random() * 24)];
        const r = random();
        check(r < 0.4 ? doc.slice(0, at) + pick + doc.slice(at) : r < 0.7 ? doc.slice(0, at) + doc.slice(at + 1) : doc.slice(0, at));
      }
    }
  });

  it('backs the output check: an object or array that parses', () => {
    assert.equal(isValidJsonOutput(' {"intent":"refund","priority":2}'), true);
    assert.equal(isValidJsonOutput("{'intent':'refund'}"), false);
    assert.equal(isValidJsonOutput('"a string"'), false);
    assert.equal(isValidJsonOutput('[1,2'), false);
  });
});
