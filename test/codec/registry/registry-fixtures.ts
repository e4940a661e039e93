/**
 * Schema fixtures for the schema-registry tests: the older (v0) and newer (v2) test versions of
 * the LlmSpan contract in test/fixtures/schemas/, and spans written with them.
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import type { Type } from 'avsc';
import type { LlmSpan } from '../../../src/model/index.js';

const FIXTURES = new URL('../../fixtures/schemas/', import.meta.url);

/** The text of a schema fixture, e.g. `llm-span-v0.avsc`. */
export function fixtureSchema(file: string): string {
  return readFileSync(new URL(file, FIXTURES), 'utf8');
}

/** An avsc type of a schema text, parsed as Vigil parses its own contracts. */
export function typeOf(schema: string): Type {
  return avro.Type.forSchema(JSON.parse(schema) as Parameters<typeof avro.Type.forSchema>[0], { wrapUnions: 'never', registry: {} });
}

/** The older LlmSpan: no cachedInputTokens, retryCount, fallback, expectedFormat, attributes. */
export const OLDER_SPAN_SCHEMA = fixtureSchema('llm-span-v0.avsc');

/** The newer LlmSpan: extra fields `region` (nullable) and `samplingRate` (double), both with defaults. */
export const NEWER_SPAN_SCHEMA = fixtureSchema('llm-span-v2.avsc');

/** An LlmSpan whose `durationMs` is a string: no Avro resolution to the current contract exists. */
export const INCOMPATIBLE_SPAN_SCHEMA = (() => {
  const json = JSON.parse(OLDER_SPAN_SCHEMA) as { fields: { name: string; type: unknown }[] };
  for (const f of json.fields) if (f.name === 'durationMs') f.type = 'string';
  return JSON.stringify(json);
})();

/** A span as the older producer writes it (it has none of the fields the older schema lacks). */
export function olderSpanRecord(span: LlmSpan): Record<string, unknown> {
  const record: Record<string, unknown> = { ...span };
  for (const field of ['cachedInputTokens', 'retryCount', 'fallback', 'expectedFormat', 'attributes']) delete record[field];
  return record;
}

/** What the current reader makes of {@link olderSpanRecord}: the missing fields take their defaults. */
export function asReadFromOlder(span: LlmSpan): LlmSpan {
  return { ...span, cachedInputTokens: null, retryCount: 0, fallback: false, expectedFormat: null, attributes: {} };
}

/** A span as the newer producer writes it. */
export function newerSpanRecord(span: LlmSpan, region = 'eu-west-1'): Record<string, unknown> {
  return { ...span, region, samplingRate: 0.25 };
}
