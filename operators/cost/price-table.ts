/**
 * Model prices and span costing: a {@link PriceTable} of USD prices per 1M tokens by provider and
 * model, name normalisation for the many spellings of one model (`gpt-4o-2024-08-06`,
 * `openai/gpt-4o`, `claude-sonnet-4@20250514`, …) and {@link PriceTable.spanCost}, which prices one
 * span and says where the figure came from. The shipped defaults live in `data/model-prices.json`
 * and are read by {@link loadPriceTable}, the only function here that does I/O.
 *
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/codec/schemas.js';
import { VigilError } from '../../src/errors.js';
import type { LlmSpan } from '../../src/model/llm-span.js';

/** One price entry as written in the price file or in config. Prices are USD per 1M tokens. */
export interface PriceEntryInput {
  /** Provider the price applies to, e.g. `openai`; omitted (or null) = any provider. */
  provider?: string | null;
  /** Model name, e.g. `gpt-4o`: the base name, without date or version suffix. */
  model: string;
  /** Price of an input (prompt) token. */
  input: number;
  /** Price of an output (completion) token; omit (or null) only for models that bill no output (embeddings). */
  output?: number | null;
  /** Price of an input token read from the provider's prompt cache; omitted (or null) = the input price. */
  cachedInput?: number | null;
}

/** A validated price entry. Prices are USD per 1M tokens. */
export interface ModelPrice {
  /** Provider the price applies to, lower-cased; null = any provider. */
  readonly provider: string | null;
  /** Model name as given. */
  readonly model: string;
  /** Price of an uncached input token. */
  readonly input: number;
  /** Price of an output token (0 for models that bill no output). */
  readonly output: number;
  /** Price of a cached input token; null = billed at {@link ModelPrice.input}. */
  readonly cachedInput: number | null;
}

/** Where a span's cost came from (see {@link PriceTable.spanCost}). */
export type CostSource = 'producer' | 'table' | 'unpriced' | 'none';

/** A span's cost in USD and its {@link CostSource}. */
export interface SpanCost {
  usd: number;
  source: CostSource;
}

/** Optional facts about a price table's origin, shown on status pages. */
export interface PriceTableInfo {
  /** Date the prices were checked, e.g. `2025-08-15`. */
  asOf?: string | null;
  /** Where the prices come from. */
  source?: string | null;
}

/** Path of the shipped price file, relative to the package root. */
export const DEFAULT_PRICE_FILE = 'data/model-prices.json';

/** Most distinct (provider, model) pairs a table remembers the lookup result of before it starts over. */
const LOOKUP_CACHE_LIMIT = 4096;

/**
 * One trailing date or version tag of a model name; the leftmost match wins, so `-08-2024` is taken
 * whole rather than as `-2024`. Covers `@20250514…` (Vertex), `-2024-08-06`, `-08-2024` (Cohere),
 * `-20250514` (Anthropic), `-preview[-05-20]` / `-exp[-03-25]` (Gemini), `-latest`, `-v1:0`
 * (Bedrock) and `-2411` / `-0125` / `-002` (Mistral, OpenAI, Gemini).
 */
const VERSION_SUFFIX = /(?:@.*|-\d{4}-\d{2}-\d{2}|-\d{2}-\d{4}|-\d{8}|-(?:preview|exp)(?:-\d{2}-\d{2})?|-latest|-v\d+(?::\d+)?|-\d{3,4})$/;

/** Bedrock's `[region.]vendor.` model prefix, e.g. `us.anthropic.`. */
const VENDOR_PREFIX = /^(?:[a-z]{2}\.)?(?:anthropic|meta|cohere|mistral|amazon|ai21|openai|deepseek)\./;

/** Most suffixes stripped from one name (`claude-sonnet-4-20250514-v1:0` needs two). */
const MAX_SUFFIXES = 3;

type ByModel = Map<string, ModelPrice>;

/**
 * USD prices per 1M tokens by provider and model, with forgiving name matching and span costing.
 * Immutable once built (apart from its lookup cache); {@link PriceTable.withOverrides} derives a new
 * table. Pure and synchronous.
 *
 * **Lookup** ({@link PriceTable.lookup}) tries, in order, stopping at the first hit:
 * 1. the name exactly as given: the entry for (provider, model), then the model's any-provider
 *    price (its provider-less entry, else the entry of the first provider listing that name) — so a
 *    span from `azure` for `gpt-4o` is priced at the OpenAI list price;
 * 2. normalised names, each tried for the provider and then for any provider: the name lower-cased
 *    with a path prefix (`openai/gpt-4o`, `models/gemini-2.5-pro`) or a Bedrock vendor prefix
 *    (`us.anthropic.`) removed, then with up to three trailing date/version tags stripped one at a
 *    time (`-2024-08-06`, `-20250514`, `@20250514`, `-latest`, `-preview-05-20`, `-v1:0`, `-2411`,
 *    `-002`). A path prefix stands in for the provider when the span has none.
 *
 * Table names are matched lower-cased but never stripped, so a dated entry such as
 * `gpt-4o-2024-05-13` (priced differently from `gpt-4o`) wins over the stripped base name. Names are
 * never matched by prefix: `gpt-4o-mini` is never priced as `gpt-4o`.
 *
 * Results (hits and misses) are cached per (provider, model) in two nested maps, so repeated lookups
 * allocate nothing; the cache is cleared when it reaches 4096 pairs (model names come from producers
 * and are not trusted to be few).
 */
export class PriceTable {
  /** Date the prices were checked, when known. */
  readonly asOf: string | null;
  /** Where the prices come from, when known. */
  readonly source: string | null;

  private readonly list: readonly ModelPrice[];
  private readonly exact = new Map<string, ByModel>();
  private readonly exactAny: ByModel = new Map();
  private readonly lower = new Map<string, ByModel>();
  private readonly lowerAny: ByModel = new Map();
  private readonly cache = new Map<string, Map<string, ModelPrice | null>>();
  private cached = 0;
  private readonly scratch: SpanCost = { usd: 0, source: 'none' };

  /**
   * Builds a table from entries; a later entry for the same (provider, model) replaces an earlier one.
   *
   * @throws VigilError `VIGIL_CONFIG_INVALID` naming the entry index and field when an entry is not
   *   an object, its model is not a non-empty string, its provider is not a non-empty string or
   *   null, or a price is not a finite number ≥ 0 (`input` is required).
   */
  constructor(entries: readonly PriceEntryInput[], info: PriceTableInfo = {}) {
    this.list = validateEntries(entries, 'price entry');
    this.asOf = info.asOf ?? null;
    this.source = info.source ?? null;
    const anyExact = new Map<string, ModelPrice>();
    const anyLower = new Map<string, ModelPrice>();
    const exactOwner = new Map<string, string>();
    const lowerOwner = new Map<string, string>();
    for (const e of this.list) {
      const modelLower = e.model.toLowerCase();
      if (e.provider === null) {
        anyExact.set(e.model, e);
        anyLower.set(modelLower, e);
        continue;
      }
      mapFor(this.exact, e.provider).set(e.model, e);
      mapFor(this.lower, e.provider).set(modelLower, e);
      // Without a provider-less entry, a name's any-provider price is its first provider's (latest) entry.
      const owner = exactOwner.get(e.model);
      if (owner === undefined || owner === e.provider) {
        exactOwner.set(e.model, e.provider);
        this.exactAny.set(e.model, e);
      }
      const lowerOwnerOf = lowerOwner.get(modelLower);
      if (lowerOwnerOf === undefined || lowerOwnerOf === e.provider) {
        lowerOwner.set(modelLower, e.provider);
        this.lowerAny.set(modelLower, e);
      }
    }
    for (const [m, e] of anyExact) this.exactAny.set(m, e);
    for (const [m, e] of anyLower) this.lowerAny.set(m, e);
  }

  /** The validated entries, in table order (later entries win on equal provider and model). */
  get entries(): readonly ModelPrice[] {
    return this.list;
  }

  /**
   * A new table: this one's entries with `overrides` applied on top (typically from config). An
   * override with a provider replaces that (provider, model) entry or adds one; an override without a
   * provider replaces every entry of that model name (compared lower-cased), whatever its provider,
   * so `{ model: 'gpt-4o', input: 2 }` reprices `gpt-4o` everywhere. Dated variants (`gpt-4o-2024-05-13`)
   * are separate names and keep their entries.
   *
   * @throws VigilError `VIGIL_CONFIG_INVALID` naming the override index and field (see the constructor).
   */
  withOverrides(overrides: readonly PriceEntryInput[]): PriceTable {
    const valid = validateEntries(overrides, 'price override');
    const replacedEverywhere = new Set<string>();
    for (const o of valid) if (o.provider === null) replacedEverywhere.add(o.model.toLowerCase());
    const kept = this.list.filter((e) => !replacedEverywhere.has(e.model.toLowerCase()));
    return new PriceTable([...kept, ...valid], { asOf: this.asOf, source: this.source });
  }

  /**
   * The price of `model` from `provider` (see the class notes for the matching order), or
   * `undefined` when the table has none. Allocation-free for a (provider, model) pair seen before.
   */
  lookup(provider: string | null, model: string): ModelPrice | undefined {
    const p = provider ?? '';
    let byModel = this.cache.get(p);
    if (byModel !== undefined) {
      const hit = byModel.get(model);
      if (hit !== undefined) return hit ?? undefined;
    }
    const found = this.resolve(provider, model) ?? null;
    if (this.cached >= LOOKUP_CACHE_LIMIT) {
      this.cache.clear();
      this.cached = 0;
      byModel = undefined;
    }
    if (byModel === undefined) {
      byModel = new Map();
      this.cache.set(p, byModel);
    }
    byModel.set(model, found);
    this.cached++;
    return found ?? undefined;
  }

  /**
   * The cost of one span in USD and where it came from:
   * - `producer`: the span carries a finite `costUsd` ≥ 0 — it wins over the table;
   * - `none`: the span reports no tokens (retrieval, tool, guardrail steps; failed calls that billed
   *   nothing) — cost 0, and nothing is wrong;
   * - `table`: priced from the table as
   *   `((input − cached)·price.input + cached·(price.cachedInput ?? price.input) + output·price.output) / 1e6`,
   *   where `cachedInputTokens` is the part of `inputTokens` served from the provider's cache
   *   (clamped to `[0, inputTokens]`) and null token counts count as 0;
   * - `unpriced`: the span has tokens but no model, or a model the table does not know — cost 0,
   *   and the caller is expected to count it: an unknown model is never silently priced at zero.
   *
   * @param out - filled and returned; by default one object owned by the table, overwritten by the
   *   next call (read it at once, or pass your own to keep it). No allocation either way.
   */
  spanCost(span: LlmSpan, out: SpanCost = this.scratch): SpanCost {
    const result = out;
    const produced = span.costUsd;
    if (produced !== null && produced >= 0 && produced < Infinity) {
      result.usd = produced;
      result.source = 'producer';
      return result;
    }
    const inputTokens = positive(span.inputTokens);
    const outputTokens = positive(span.outputTokens);
    result.usd = 0;
    if (inputTokens + outputTokens === 0) {
      result.source = 'none';
      return result;
    }
    const price = span.model === null ? undefined : this.lookup(span.provider, span.model);
    if (price === undefined) {
      result.source = 'unpriced';
      return result;
    }
    const cached = Math.min(positive(span.cachedInputTokens), inputTokens);
    result.usd =
      ((inputTokens - cached) * price.input + cached * (price.cachedInput ?? price.input) + outputTokens * price.output) / 1e6;
    result.source = 'table';
    return result;
  }

  /** The uncached matching order of {@link lookup}. */
  private resolve(provider: string | null, model: string): ModelPrice | undefined {
    if (provider !== null) {
      const hit = this.exact.get(provider)?.get(model);
      if (hit !== undefined) return hit;
    }
    const any = this.exactAny.get(model);
    if (any !== undefined) return any;

    let name = model.toLowerCase();
    let prov = provider === null ? null : provider.toLowerCase();
    const slash = name.lastIndexOf('/');
    if (slash >= 0) {
      if (prov === null) prov = name.slice(0, name.indexOf('/'));
      name = name.slice(slash + 1);
    }
    name = name.replace(VENDOR_PREFIX, '');
    const byProvider = prov === null ? undefined : this.lower.get(prov);
    for (let i = 0; ; i++) {
      const hit = byProvider?.get(name) ?? this.lowerAny.get(name);
      if (hit !== undefined) return hit;
      if (i === MAX_SUFFIXES) return undefined;
      const stripped = name.replace(VERSION_SUFFIX, '');
      if (stripped === name || stripped.length === 0) return undefined;
      name = stripped;
    }
  }
}

/**
 * Builds a {@link PriceTable} from the parsed JSON of a price file: an object with a `models` array
 * of {@link PriceEntryInput} and optional `asOf` and `source` strings (other keys are ignored).
 *
 * @throws VigilError `VIGIL_CONFIG_INVALID` when the shape is wrong or an entry is invalid.
 */
export function parsePriceTable(json: unknown): PriceTable {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { models?: unknown }).models)) {
    throw new VigilError('VIGIL_CONFIG_INVALID', 'price table must be an object with a "models" array', {
      details: { field: 'models' },
    });
  }
  const { models, asOf, source } = json as { models: PriceEntryInput[]; asOf?: unknown; source?: unknown };
  return new PriceTable(models, {
    asOf: typeof asOf === 'string' ? asOf : null,
    source: typeof source === 'string' ? source : null,
  });
}

/**
 * Reads a price file (default: the shipped {@link DEFAULT_PRICE_FILE} under the package root) and
 * builds its {@link PriceTable}. The one function of this module that does I/O.
 *
 * @throws VigilError `VIGIL_FILE_UNREADABLE` when the file cannot be read or is not JSON;
 *   `VIGIL_CONFIG_INVALID` (with `details.path`) when its content is invalid.
 */
export function loadPriceTable(path: string = join(packageRoot(), DEFAULT_PRICE_FILE)): PriceTable {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new VigilError('VIGIL_FILE_UNREADABLE', `Cannot read price table ${path}`, { cause, details: { path } });
  }
  try {
    return parsePriceTable(json);
  } catch (err) {
    if (err instanceof VigilError) {
      throw new VigilError(err.code, `${path}: ${err.message}`, { cause: err, details: { ...err.details, path } });
    }
    throw err;
  }
}

function mapFor(maps: Map<string, ByModel>, provider: string): ByModel {
  let m = maps.get(provider);
  if (m === undefined) {
    m = new Map();
    maps.set(provider, m);
  }
  return m;
}

function show(v: unknown): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

function positive(n: number | null): number {
  return n !== null && n > 0 ? n : 0;
}

function validateEntries(entries: readonly PriceEntryInput[], what: string): ModelPrice[] {
  if (!Array.isArray(entries)) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `${what}s must be an array`, { details: { field: 'entries' } });
  }
  const out: ModelPrice[] = [];
  for (let index = 0; index < entries.length; index++) {
    const e = entries[index] as unknown;
    const bad = (field: string, message: string): VigilError =>
      new VigilError('VIGIL_CONFIG_INVALID', `${what} ${index}: ${field} ${message}`, { details: { index, field } });
    if (typeof e !== 'object' || e === null) throw bad('entry', 'must be an object');
    const { provider, model, input, output, cachedInput } = e as Record<string, unknown>;
    if (typeof model !== 'string' || model.length === 0) throw bad('model', `must be a non-empty string, got ${show(model)}`);
    if (provider !== undefined && provider !== null && (typeof provider !== 'string' || provider.length === 0)) {
      throw bad('provider', `must be a non-empty string when set, got ${show(provider)}`);
    }
    const price = (field: string, v: unknown, required: boolean): number | null => {
      if ((v === undefined || v === null) && !required) return null;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw bad(field, `must be a finite number >= 0 (USD per 1M tokens), got ${show(v)}`);
      }
      return v;
    };
    out.push(
      Object.freeze({
        provider: typeof provider === 'string' ? provider.toLowerCase() : null,
        model,
        input: price('input', input, true) as number,
        output: price('output', output, false) ?? 0,
        cachedInput: price('cachedInput', cachedInput, false),
      }),
    );
  }
  return out;
}
