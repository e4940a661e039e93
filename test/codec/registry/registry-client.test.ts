/**
 * Unit tests of the registry client's HTTP behaviour (caching, retries, refusals, timeouts).
 *
 * The server here is a STAND-IN: a few lines of node:http answering the two Confluent endpoints
 * the client uses, so that failures (503, 404, 409, silence) can be scripted. The client against a
 * real registry (Apicurio, Confluent API) is tested in test/integration/registry/.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { RegistryClient } from '../../../src/codec/registry/registry-client.js';
import { VigilError, isVigilError } from '../../../src/errors.js';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

type Script = (req: Seen, res: ServerResponse) => void;

let server: Server;
let base = '';
let seen: Seen[] = [];
let script: Script = () => undefined;

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
  res.end(JSON.stringify(body));
}

before(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body };
      seen.push(s);
      script(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ccompat/`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  script = (req, res) => {
    const m = /^\/ccompat\/schemas\/ids\/(\d+)$/.exec(req.url);
    if (req.method === 'GET' && m !== null) return reply(res, 200, { schema: `{"type":"fixed","name":"F${m[1]}","size":1}` });
    return reply(res, 404, { error_code: 40401, message: 'not found' });
  };
});

function client(options: Partial<ConstructorParameters<typeof RegistryClient>[0]> = {}): RegistryClient {
  return new RegistryClient({ url: base, retryBackoffMs: 1, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<VigilError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof VigilError, `expected a VigilError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

describe('RegistryClient against a stand-in HTTP server', () => {
  it('fetches a schema by id once, for concurrent and later callers alike', async () => {
    const c = client();
    assert.equal(c.url, base.slice(0, -1));
    const [a, b] = await Promise.all([c.schemaById(7), c.schemaById(7)]);
    assert.deepEqual(a, { id: 7, schema: '{"type":"fixed","name":"F7","size":1}', schemaType: 'AVRO' });
    assert.equal(b, a);
    await c.schemaById(7);
    assert.deepEqual(seen.map((s) => `${s.method} ${s.url}`), ['GET /ccompat/schemas/ids/7']);
  });

  it('keeps at most cacheSize schemas, forgetting the least recently used', async () => {
    const c = client({ cacheSize: 2 });
    for (const id of [1, 2, 1, 3, 1, 2]) await c.schemaById(id);
    assert.deepEqual(seen.map((s) => s.url.split('/').pop()), ['1', '2', '3', '2']);
  });

  it('retries 5xx and 429 with backoff and succeeds when the registry recovers', async () => {
    const statuses = [503, 429];
    script = (_req, res) => {
      const status = statuses.shift();
      if (status !== undefined) return reply(res, status, { error_code: 50001, message: 'busy' });
      return reply(res, 200, { schema: '"string"', schemaType: 'AVRO' });
    };
    assert.equal((await client({ retries: 3 }).schemaById(1)).schema, '"string"');
    assert.equal(seen.length, 3);
  });

  it('gives up after the retries with a retriable VIGIL_REGISTRY_FAILED', async () => {
    script = (_req, res) => reply(res, 500, { error_code: 50001, message: 'store down' });
    const error = await rejection(client({ retries: 2 }).schemaById(1));
    assert.ok(isVigilError(error, 'VIGIL_REGISTRY_FAILED'));
    assert.equal(error.retriable, true);
    assert.match(error.message, /could not fetch schema id 1 \(3 attempt\(s\)\): HTTP 500 \(error 50001: store down\)$/);
    assert.equal(seen.length, 3);
  });

  it('times out a registry that does not answer', async () => {
    script = () => undefined; // never answers
    const error = await rejection(client({ retries: 1, timeoutMs: 50 }).schemaById(1));
    assert.ok(isVigilError(error, 'VIGIL_REGISTRY_FAILED'));
    assert.equal(seen.length, 2);
  });

  it('reports an unknown id as VIGIL_REGISTRY_REJECTED 404 without retrying or caching it', async () => {
    script = (_req, res) => reply(res, 404, { error_code: 40403, message: 'Schema 9 not found' });
    const c = client();
    const error = await rejection(c.schemaById(9));
    assert.ok(isVigilError(error, 'VIGIL_REGISTRY_REJECTED'));
    assert.equal(error.details.status, 404);
    assert.equal(error.details.errorCode, 40403);
    await rejection(c.schemaById(9));
    assert.equal(seen.length, 2);
  });

  it('registers a schema under a subject with the registry content type, once per subject and schema', async () => {
    script = (_req, res) => reply(res, 200, { id: 42 });
    const c = client();
    assert.equal(await c.register('alerts-value', '"string"'), 42);
    assert.equal(await c.register('alerts-value', '"string"'), 42);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].method, 'POST');
    assert.equal(seen[0].url, '/ccompat/subjects/alerts-value/versions');
    assert.equal(seen[0].contentType, 'application/vnd.schemaregistry.v1+json');
    assert.deepEqual(JSON.parse(seen[0].body), { schema: '"string"' });
  });

  it('reports a refused registration (409) as VIGIL_REGISTRY_REJECTED', async () => {
    script = (_req, res) => reply(res, 409, { error_code: 409, message: 'Schema being registered is incompatible with an earlier schema' });
    const error = await rejection(client().register('a-value', '"int"'));
    assert.ok(isVigilError(error, 'VIGIL_REGISTRY_REJECTED'));
    assert.equal(error.retriable, false);
    assert.equal(seen.length, 1);
  });

  it('refuses a URL that is not http(s) and a cache size below 1', () => {
    assert.throws(() => new RegistryClient({ url: 'ftp://x' }), (e) => isVigilError(e, 'VIGIL_CONFIG_INVALID'));
    assert.throws(() => new RegistryClient({ url: 'not a url' }), (e) => isVigilError(e, 'VIGIL_CONFIG_INVALID'));
    assert.throws(() => new RegistryClient({ url: base, cacheSize: 0 }), (e) => isVigilError(e, 'VIGIL_CONFIG_INVALID'));
  });
});
