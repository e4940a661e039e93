import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isVigilError } from '../../src/errors.js';
import { SchemaRegistryClient } from '../../src/sdk/registry-client.js';
import { startFakeSchemaRegistry } from '../helpers/fake-schema-registry.js';
import type { FakeSchemaRegistry } from '../helpers/fake-schema-registry.js';

const SCHEMA = JSON.stringify({ type: 'record', name: 'T', fields: [{ name: 'a', type: 'string' }] });

describe('the schema registry client', () => {
  let registry: FakeSchemaRegistry;

  before(async () => {
    registry = await startFakeSchemaRegistry(7);
  });

  after(async () => {
    await registry.close();
  });

  it('looks the schema up, registers it when the subject lacks it, and caches the id', async () => {
    registry.requests = [];
    const client = new SchemaRegistryClient({ url: `${registry.url}/`, basicAuth: { username: 'key', password: 'secret' } });
    assert.equal(await client.schemaId('spans-value', SCHEMA), 7);
    assert.equal(await client.schemaId('spans-value', SCHEMA), 7);
    assert.deepEqual(
      registry.requests.map((r) => r.path),
      ['/subjects/spans-value', '/subjects/spans-value/versions'],
    );
    for (const r of registry.requests) {
      assert.equal(r.contentType, 'application/vnd.schemaregistry.v1+json');
      assert.equal(r.authorization, `Basic ${Buffer.from('key:secret').toString('base64')}`);
      assert.equal(r.body.schema, SCHEMA);
    }
  });

  it('finds an already registered schema with one look-up', async () => {
    registry.requests = [];
    const client = new SchemaRegistryClient({ url: registry.url });
    assert.equal(await client.schemaId('spans-value', SCHEMA), 7);
    assert.deepEqual(
      registry.requests.map((r) => r.path),
      ['/subjects/spans-value'],
    );
  });

  it('refuses to register when autoRegister is off', async () => {
    const client = new SchemaRegistryClient({ url: registry.url, autoRegister: false });
    await assert.rejects(client.schemaId('other-value', SCHEMA), (e: unknown) => isVigilError(e, 'VIGIL_SINK_FAILED') && /does not have the schema, and autoRegister is off/.test(e.message));
  });

  it('reports a refused schema with the HTTP status and the registry message, and retries later', async () => {
    const client = new SchemaRegistryClient({ url: registry.url });
    registry.failWith = { status: 409, errorCode: 409, message: 'Schema being registered is incompatible with an earlier schema' };
    try {
      await assert.rejects(
        client.schemaId('new-value', SCHEMA),
        (e: unknown) => isVigilError(e, 'VIGIL_SINK_FAILED') && e.details.status === 409 && /HTTP 409 \(Schema being registered is incompatible/.test(e.message),
      );
    } finally {
      registry.failWith = undefined;
    }
    assert.equal(await client.schemaId('new-value', SCHEMA), 8, 'a failure is not cached');
  });

  it('reports an unreachable registry as VIGIL_SINK_FAILED', async () => {
    const client = new SchemaRegistryClient({ url: 'http://127.0.0.1:1', timeoutMs: 2000 });
    await assert.rejects(client.schemaId('x-value', SCHEMA), (e: unknown) => isVigilError(e, 'VIGIL_SINK_FAILED') && /unreachable/.test(e.message));
  });
});
