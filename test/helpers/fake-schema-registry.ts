/**
 * A stand-in for a Confluent Schema Registry speaking the two REST calls producers make: look a
 * schema up under a subject (`POST /subjects/{subject}`) and register it
 * (`POST /subjects/{subject}/versions`). No registry server is available in this environment;
 * this one follows the documented request and reply shapes and records every request.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake registry received. */
export interface RegistryRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: { schema?: string; schemaType?: string };
}

/** A running fake registry. */
export interface FakeSchemaRegistry {
  url: string;
  requests: RegistryRequest[];
  /** Registered schemas: subject → schema text → id. */
  subjects: Map<string, Map<string, number>>;
  /** Answer every request with this status and error body instead (e.g. 409 incompatible). */
  failWith: { status: number; errorCode: number; message: string } | undefined;
  close(): Promise<void>;
}

/** Starts a fake registry on a free loopback port; new schemas get ids from `firstId` up. */
export async function startFakeSchemaRegistry(firstId = 41): Promise<FakeSchemaRegistry> {
  let nextId = firstId;
  const registry: Omit<FakeSchemaRegistry, 'url' | 'close'> = { requests: [], subjects: new Map(), failWith: undefined };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = decodeURIComponent(req.url ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as RegistryRequest['body'];
      registry.requests.push({ method: req.method ?? '', path, contentType: req.headers['content-type'], authorization: req.headers.authorization, body });
      const send = (status: number, payload: object): void => {
        res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        res.end(JSON.stringify(payload));
      };
      if (registry.failWith !== undefined) return send(registry.failWith.status, { error_code: registry.failWith.errorCode, message: registry.failWith.message });
      const m = /^\/subjects\/([^/]+)(\/versions)?$/.exec(path);
      if (req.method !== 'POST' || m === null || typeof body.schema !== 'string') return send(404, { error_code: 404, message: 'HTTP 404 Not Found' });
      const [, subject, versions] = m;
      const schemas = registry.subjects.get(subject);
      if (versions === undefined) {
        if (schemas === undefined) return send(404, { error_code: 40401, message: `Subject '${subject}' not found.` });
        const id = schemas.get(body.schema);
        if (id === undefined) return send(404, { error_code: 40403, message: 'Schema not found' });
        return send(200, { subject, version: 1, id, schema: body.schema });
      }
      const known = schemas ?? new Map<string, number>();
      registry.subjects.set(subject, known);
      let id = known.get(body.schema);
      if (id === undefined) {
        id = nextId++;
        known.set(body.schema, id);
      }
      return send(200, { id });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(registry, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
