import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { createQueryServer } from '../../src/api/query-server.js';
import { packageRoot } from '../../src/codec/schemas.js';
import { testEngine } from '../helpers/test-engine.js';

const RULES = 'rules:\n  - { name: slow, signal: latency, stat: max, groupBy: [model], window: 1m, op: ">", threshold: 2000, severity: warning }\n';

interface OpenApiParameter {
  name: string;
  in: 'query' | 'path' | 'header';
  required?: boolean;
  schema?: { type?: string; enum?: unknown[] };
}
interface OpenApiOperation {
  summary?: string;
  tags?: string[];
  parameters?: OpenApiParameter[];
  responses?: Record<string, unknown>;
}
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { securitySchemes?: Record<string, unknown> };
}

type Schema = { properties?: Record<string, unknown> } | undefined;

describe('OpenAPI document', () => {
  let app: FastifyInstance;
  let doc: OpenApiDocument;
  const routes: RouteOptions[] = [];

  before(async () => {
    const engine = testEngine(RULES, { slideMs: 10_000, windowMs: 300_000, retentionMs: 3_600_000, allowedLatenessMs: 0 });
    app = createQueryServer({ backend: engine });
    // The routes load with the server's plugins, after this hook is in place.
    app.addHook('onRoute', (route) => {
      routes.push(route);
    });
    await app.ready();
    const res = await app.inject({ url: '/docs/json' });
    assert.equal(res.statusCode, 200);
    doc = res.json<OpenApiDocument>();
  });

  after(async () => app.close());

  it('is OpenAPI 3.1 for this package version', () => {
    const pkg = JSON.parse(readFileSync(`${packageRoot()}/package.json`, 'utf8')) as { version: string };
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.title, 'Vigil query API');
    assert.equal(doc.info.version, pkg.version);
    assert.ok(doc.components?.securitySchemes?.bearerAuth);
  });

  it('lists every route with a summary and each of its query and path parameters', () => {
    const documented = routes.filter((r) => r.method !== 'HEAD' && r.schema?.hide !== true);
    assert.ok(documented.length >= 16, `${documented.length} routes`);
    for (const route of documented) {
      const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
      const method = String(route.method).toLowerCase();
      const op = doc.paths[path]?.[method];
      assert.ok(op, `${method.toUpperCase()} ${path} is missing from the document`);
      assert.ok(op.summary, `${path} has no summary: add one to ROUTE_DOCS in src/api/api-docs.ts`);
      const params = op.parameters ?? [];
      const query = Object.keys((route.schema?.querystring as Schema)?.properties ?? {});
      const pathParams = Object.keys((route.schema?.params as Schema)?.properties ?? {});
      for (const name of query) assert.ok(params.some((p) => p.in === 'query' && p.name === name), `${path}: query parameter ${name}`);
      for (const name of pathParams) assert.ok(params.some((p) => p.in === 'path' && p.name === name && p.required === true), `${path}: path parameter ${name}`);
      assert.equal(params.filter((p) => p.in === 'path').length, (path.match(/\{/g) ?? []).length, `${path}: path parameters`);
    }
    const paths = Object.keys(doc.paths).sort();
    assert.deepEqual(paths, [...new Set(documented.map((r) => r.url.replace(/:([A-Za-z]+)/g, '{$1}')))].sort(), 'nothing but the routes');
  });

  it('describes the query API routes with their parameters', () => {
    const names = (path: string): string[] => (doc.paths[path].get.parameters ?? []).map((p) => p.name).sort();
    assert.deepEqual(names('/v1/percentiles'), ['groupBy', 'metric', 'model', 'operation', 'provider', 'q', 'service', 'tenant', 'window']);
    const metric = doc.paths['/v1/percentiles'].get.parameters?.find((p) => p.name === 'metric');
    assert.deepEqual(metric?.schema?.enum, ['latency', 'ttft']);
    assert.deepEqual(names('/v1/alerts'), ['limit', 'state']);
    assert.deepEqual(names('/v1/signals/{signal}'), ['baseline', 'compare', 'groupBy', 'signal', 'stats', 'window']);
    assert.deepEqual(names('/v1/users/{userId}'), ['userId']);
    assert.deepEqual(names('/v1/users'), ['kind', 'limit']);
    for (const family of ['cost', 'errors', 'evals', 'feedback', 'output', 'security']) assert.ok(names(`/v1/${family}`).includes('window'), family);
    for (const path of ['/healthz', '/readyz', '/v1/status', '/v1/signals', '/metrics']) assert.ok(doc.paths[path]?.get, path);
    assert.ok(doc.paths['/v1/percentiles'].get.responses?.['200']);
  });

  it('leaves out the dashboard and the docs themselves', () => {
    for (const path of ['/', '/dashboard/app.js', '/docs', '/docs/json']) assert.equal(doc.paths[path], undefined, path);
  });

  it('serves Swagger UI at /docs', async () => {
    let res = await app.inject({ url: '/docs' });
    if (res.statusCode === 302) res = await app.inject({ url: String(res.headers.location) });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /swagger/i);
    assert.match(String(res.headers['content-type']), /^text\/html/);
  });
});
