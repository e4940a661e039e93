import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SCHEMA_FILES, packageRoot, qualifiedSchemaName, schemaType, schemasDir } from '../../src/codec/schemas.js';
import type { SchemaName } from '../../src/codec/schemas.js';

describe('schemas', () => {
  it('finds the package root by walking up to the directory holding package.json', () => {
    const root = packageRoot();
    assert.ok(existsSync(join(root, 'package.json')));
    assert.equal(schemasDir(), join(root, 'schemas'));
  });

  it('parses every shipped schema into an avsc type named after its record', () => {
    for (const name of Object.keys(SCHEMA_FILES) as SchemaName[]) {
      assert.equal(schemaType(name).name, qualifiedSchemaName(name));
    }
  });

  it('caches each type', () => {
    assert.equal(schemaType('LlmSpan'), schemaType('LlmSpan'));
  });

  it('keeps timestamp-millis values as plain numbers and unions unwrapped', () => {
    const type = schemaType('FeedbackEvent');
    const record = { feedbackId: 'f1', timestamp: 1735689600123, type: 'THUMBS_DOWN', score: 2.5, attributes: {} };
    const decoded = type.fromBuffer(type.toBuffer(record)) as Record<string, unknown>;
    assert.equal(decoded.timestamp, 1735689600123);
    assert.equal(decoded.score, 2.5);
    assert.equal(decoded.traceId, null);
  });
});
