import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_PRICE_FILE, loadPriceTable, parsePriceTable, PriceTable } from '../../../operators/cost/price-table.js';
import type { PriceEntryInput, SpanCost } from '../../../operators/cost/price-table.js';
import { packageRoot } from '../../../src/codec/schemas.js';
import { isVigilError } from '../../../src/errors.js';
import { makeSpan } from '../../helpers/span-factory.js';

const ENTRIES: PriceEntryInput[] = [
  { provider: 'openai', model: 'gpt-4o', input: 2.5, cachedInput: 1.25, output: 10 },
  { provider: 'openai', model: 'gpt-4o-2024-05-13', input: 5, output: 15 },
  { provider: 'openai', model: 'gpt-4o-mini', input: 0.15, cachedInput: 0.075, output: 0.6 },
  { provider: 'openai', model: 'text-embedding-3-small', input: 0.02 },
  { provider: 'anthropic', model: 'claude-sonnet-4', input: 3, output: 15 },
  { provider: 'anthropic', model: 'claude-3-5-haiku', input: 0.8, cachedInput: 0.08, output: 4 },
  { provider: 'google', model: 'gemini-2.5-flash', input: 0.3, cachedInput: 0.075, output: 2.5 },
  { provider: 'mistral', model: 'mistral-large', input: 2, output: 6 },
  { provider: 'cohere', model: 'command-r-plus', input: 2.5, output: 10 },
];

function table(): PriceTable {
  return new PriceTable(ENTRIES);
}

function configErrorOf(fn: () => unknown): Record<string, unknown> {
  try {
    fn();
  } catch (err) {
    assert.ok(isVigilError(err, 'VIGIL_CONFIG_INVALID'), `expected VIGIL_CONFIG_INVALID, got ${String(err)}`);
    return { ...err.details };
  }
  assert.fail('expected a VIGIL_CONFIG_INVALID error');
}

describe('PriceTable.lookup', () => {
  it('finds an exact provider and model', () => {
    const p = table().lookup('openai', 'gpt-4o');
    assert.deepEqual(p, { provider: 'openai', model: 'gpt-4o', input: 2.5, output: 10, cachedInput: 1.25 });
  });

  it('prices a known model from another provider (Azure) at the listed price', () => {
    assert.equal(table().lookup('azure', 'gpt-4o')?.input, 2.5);
    assert.equal(table().lookup(null, 'gpt-4o')?.input, 2.5);
  });

  it('strips date and version suffixes, path and vendor prefixes, and case', () => {
    const t = table();
    const cases: [string | null, string, string][] = [
      ['openai', 'gpt-4o-2024-08-06', 'gpt-4o'],
      ['openai', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
      ['openai', 'GPT-4o', 'gpt-4o'],
      [null, 'openai/gpt-4o-mini', 'gpt-4o-mini'],
      ['anthropic', 'claude-sonnet-4-20250514', 'claude-sonnet-4'],
      ['gcp.vertex_ai', 'claude-sonnet-4@20250514', 'claude-sonnet-4'],
      ['anthropic', 'claude-3-5-haiku-latest', 'claude-3-5-haiku'],
      ['aws.bedrock', 'us.anthropic.claude-3-5-haiku-20241022-v1:0', 'claude-3-5-haiku'],
      ['google', 'models/gemini-2.5-flash', 'gemini-2.5-flash'],
      ['google', 'gemini-2.5-flash-preview-05-20', 'gemini-2.5-flash'],
      ['mistral', 'mistral-large-2411', 'mistral-large'],
      ['mistral', 'mistral-large-latest', 'mistral-large'],
      ['cohere', 'command-r-plus-08-2024', 'command-r-plus'],
    ];
    for (const [provider, model, expected] of cases) {
      assert.equal(t.lookup(provider, model)?.model, expected, `${String(provider)}/${model}`);
    }
  });

  it('prefers an exact dated entry over the stripped base name', () => {
    assert.equal(table().lookup('openai', 'gpt-4o-2024-05-13')?.input, 5);
  });

  it('never matches by name prefix', () => {
    const t = table();
    assert.equal(t.lookup('openai', 'gpt-4o-mini')?.input, 0.15);
    assert.equal(t.lookup('openai', 'gpt-4o-audio-preview'), undefined);
    assert.equal(t.lookup('openai', 'gpt-4'), undefined);
  });

  it('returns undefined for an unknown model, also when asked again', () => {
    const t = table();
    assert.equal(t.lookup('acme', 'my-finetune-v7'), undefined);
    assert.equal(t.lookup('acme', 'my-finetune-v7'), undefined);
  });

  it('returns the same entry object on repeated normalised lookups', () => {
    const t = table();
    const first = t.lookup('openai', 'gpt-4o-2024-08-06');
    assert.ok(first !== undefined);
    for (let i = 0; i < 100; i++) assert.equal(t.lookup('openai', 'gpt-4o-2024-08-06'), first);
  });

  it('keeps answering correctly after the lookup cache starts over', () => {
    const t = table();
    for (let i = 0; i < 5000; i++) t.lookup('acme', `model-${i}`);
    assert.equal(t.lookup('openai', 'gpt-4o-2024-08-06')?.model, 'gpt-4o');
  });
});

describe('PriceTable validation and overrides', () => {
  it('names the bad entry index and field', () => {
    assert.deepEqual(
      configErrorOf(() => new PriceTable([{ model: 'a', input: 1 }, { model: 'b', input: -1 }])),
      { index: 1, field: 'input' },
    );
    assert.deepEqual(configErrorOf(() => new PriceTable([{ model: 'a', input: 1, output: NaN }])), { index: 0, field: 'output' });
    assert.deepEqual(configErrorOf(() => new PriceTable([{ model: 'a', input: 1, cachedInput: Infinity }])), {
      index: 0,
      field: 'cachedInput',
    });
    assert.deepEqual(configErrorOf(() => new PriceTable([{ model: '', input: 1 }])), { index: 0, field: 'model' });
    assert.deepEqual(configErrorOf(() => new PriceTable([{ provider: '', model: 'a', input: 1 }])), { index: 0, field: 'provider' });
    assert.deepEqual(configErrorOf(() => new PriceTable([{ model: 'a' } as PriceEntryInput])), { index: 0, field: 'input' });
  });

  it('replaces a provider entry with a provider override and adds new models', () => {
    const t = table().withOverrides([
      { provider: 'openai', model: 'gpt-4o', input: 2, output: 8 },
      { provider: 'acme', model: 'acme-1', input: 1, output: 1 },
    ]);
    assert.equal(t.lookup('openai', 'gpt-4o')?.input, 2);
    assert.equal(t.lookup('openai', 'gpt-4o-2024-08-06')?.input, 2);
    assert.equal(t.lookup('azure', 'gpt-4o')?.input, 2);
    assert.equal(t.lookup('acme', 'acme-1')?.output, 1);
    assert.equal(t.lookup('openai', 'gpt-4o-2024-05-13')?.input, 5);
    assert.equal(table().lookup('openai', 'gpt-4o')?.input, 2.5);
  });

  it('reprices a model under every provider with a provider-less override', () => {
    const t = table().withOverrides([{ model: 'GPT-4o', input: 1, output: 4 }]);
    assert.equal(t.lookup('openai', 'gpt-4o')?.input, 1);
    assert.equal(t.lookup('azure', 'gpt-4o-2024-11-20')?.input, 1);
  });

  it('names the bad override', () => {
    assert.deepEqual(configErrorOf(() => table().withOverrides([{ model: 'x', input: -2 }])), { index: 0, field: 'input' });
  });
});

describe('PriceTable.spanCost', () => {
  const t = new PriceTable([
    { model: 'cached-model', input: 2, cachedInput: 0.5, output: 8 },
    { model: 'plain-model', input: 3, output: 15 },
    { model: 'embed-model', input: 0.02 },
  ]);
  const span = (o: Parameters<typeof makeSpan>[0]) => makeSpan({ provider: null, costUsd: null, cachedInputTokens: null, ...o });

  it('prices cached prompt tokens at the cached price', () => {
    // (600·2 + 400·0.5 + 500·8) / 1e6 = 5400 / 1e6
    const c = t.spanCost(span({ model: 'cached-model', inputTokens: 1000, cachedInputTokens: 400, outputTokens: 500 }));
    assert.deepEqual({ ...c }, { usd: 0.0054, source: 'table' });
  });

  it('prices cached tokens at the input price when the model has no cached price', () => {
    // (600·3 + 400·3 + 100·15) / 1e6 = 4500 / 1e6
    const c = t.spanCost(span({ model: 'plain-model', inputTokens: 1000, cachedInputTokens: 400, outputTokens: 100 }));
    assert.deepEqual({ ...c }, { usd: 0.0045, source: 'table' });
  });

  it('clamps cached tokens to the input tokens', () => {
    // (0·2 + 100·0.5) / 1e6
    const c = t.spanCost(span({ model: 'cached-model', inputTokens: 100, cachedInputTokens: 500, outputTokens: 0 }));
    assert.deepEqual({ ...c }, { usd: 0.00005, source: 'table' });
  });

  it('prices an embedding by its input tokens only', () => {
    const c = t.spanCost(span({ kind: 'EMBEDDING', model: 'embed-model', inputTokens: 10_000, outputTokens: null }));
    assert.deepEqual({ ...c }, { usd: 0.0002, source: 'table' });
  });

  it('lets a producer-reported cost win, zero included', () => {
    assert.deepEqual({ ...t.spanCost(span({ model: 'cached-model', inputTokens: 1000, costUsd: 0.123 })) }, { usd: 0.123, source: 'producer' });
    assert.deepEqual({ ...t.spanCost(span({ model: 'unknown', inputTokens: 1000, costUsd: 0 })) }, { usd: 0, source: 'producer' });
  });

  it('reports a step without tokens as none', () => {
    const c = t.spanCost(span({ kind: 'RETRIEVAL', model: null, inputTokens: null, outputTokens: null }));
    assert.deepEqual({ ...c }, { usd: 0, source: 'none' });
  });

  it('reports an unknown model with tokens as unpriced, not as a zero price', () => {
    assert.deepEqual({ ...t.spanCost(span({ model: 'mystery-9000', inputTokens: 10, outputTokens: 5 })) }, { usd: 0, source: 'unpriced' });
    assert.deepEqual({ ...t.spanCost(span({ model: null, inputTokens: 10, outputTokens: 5 })) }, { usd: 0, source: 'unpriced' });
  });

  it('fills the object it is given and returns it', () => {
    const out: SpanCost = { usd: -1, source: 'none' };
    assert.equal(t.spanCost(span({ model: 'plain-model', inputTokens: 1_000_000, outputTokens: 0 }), out), out);
    assert.deepEqual(out, { usd: 3, source: 'table' });
  });
});

describe('the shipped price file', () => {
  it('loads from the package root with a date and a source note', () => {
    const t = loadPriceTable();
    assert.match(t.asOf ?? '', /^\d{4}-\d{2}-\d{2}$/);
    assert.match(t.source ?? '', /override/i);
    for (const [provider, model] of [
      ['openai', 'gpt-4o'],
      ['openai', 'gpt-4o-mini'],
      ['openai', 'gpt-4.1'],
      ['openai', 'gpt-4.1-mini'],
      ['openai', 'o3'],
      ['openai', 'o4-mini'],
      ['openai', 'text-embedding-3-small'],
      ['openai', 'text-embedding-3-large'],
      ['anthropic', 'claude-sonnet-4-20250514'],
      ['anthropic', 'claude-opus-4-20250514'],
      ['anthropic', 'claude-3-5-haiku-20241022'],
      ['google', 'gemini-2.5-pro'],
      ['google', 'gemini-2.5-flash'],
      ['groq', 'llama-3.1-70b-versatile'],
      ['groq', 'llama-3.1-8b-instant'],
      ['mistral', 'mistral-large-latest'],
      ['mistral', 'mistral-small-latest'],
      ['cohere', 'embed-english-v3.0'],
    ]) {
      assert.ok(t.lookup(provider, model) !== undefined, `${provider}/${model}`);
    }
  });

  it('parses the same as loading it', () => {
    const json: unknown = JSON.parse(readFileSync(join(packageRoot(), DEFAULT_PRICE_FILE), 'utf8'));
    assert.equal(parsePriceTable(json).entries.length, loadPriceTable().entries.length);
  });

  it('rejects a missing file and a file without models', () => {
    assert.throws(() => loadPriceTable('/nonexistent/prices.json'), (err) => isVigilError(err, 'VIGIL_FILE_UNREADABLE'));
    assert.throws(() => parsePriceTable({ asOf: '2025-01-01' }), (err) => isVigilError(err, 'VIGIL_CONFIG_INVALID'));
  });
});
