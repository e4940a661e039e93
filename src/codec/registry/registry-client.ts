/**
 * The consumer side's client of a Confluent-compatible schema registry REST API: writer schemas by
 * id (cached, bounded) and registering a schema under a subject (for the alerts Vigil writes).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { VigilError } from '../../errors.js';
import { BoundedCache } from './bounded-cache.js';

/** How to reach a schema registry and how hard to try. */
export interface RegistryClientOptions {
  /**
   * Base URL of the Confluent-compatible API, e.g. `http://registry:8081` (Confluent, Karapace) or
   * `http://apicurio:8080/apis/ccompat/v7` (Apicurio).
   */
  url: string;
  /** Most schemas (by id) and registrations kept in memory; default 1000. */
  cacheSize?: number;
  /** Further attempts after a failed request (unreachable, timeout, 5xx, 408, 429); default 3. */
  retries?: number;
  /** Wait before the first retry, doubling for each further one; default 100 ms. */
  retryBackoffMs?: number;
  /** Timeout of one HTTP request; default 5000 ms. */
  timeoutMs?: number;
  /** Extra request headers, e.g. `authorization`. */
  headers?: Readonly<Record<string, string>>;
}

/** A schema as the registry holds it. */
export interface RegisteredSchema {
  /** The registry's id of the schema. */
  id: number;
  /** The schema text (Avro schema JSON for `AVRO`). */
  schema: string;
  /** `AVRO` (the registry's default when it says nothing), `PROTOBUF` or `JSON`. */
  schemaType: string;
}

/** The default of {@link RegistryClientOptions.cacheSize}. */
export const DEFAULT_REGISTRY_CACHE_SIZE = 1000;

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const MAX_MESSAGE = 200;

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/**
 * A small client of the Confluent schema registry API (`GET /schemas/ids/{id}`,
 * `POST /subjects/{subject}/versions`). Schemas by id are immutable, so they are cached (the least
 * recently used beyond `cacheSize` are forgotten) and concurrent look-ups of one id share one
 * request. Failed requests are retried with exponential backoff; a refusal (4xx) is not retried and
 * not cached.
 */
export class RegistryClient {
  /** The base URL, without a trailing slash. */
  readonly url: string;
  /** Most schemas kept in memory; decoders built on this client keep as many resolvers. */
  readonly cacheSize: number;
  private readonly retries: number;
  private readonly retryBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly schemas: BoundedCache<number, RegisteredSchema>;
  private readonly pending = new Map<number, Promise<RegisteredSchema>>();
  private readonly registered: BoundedCache<string, number>;

  /**
   * A client of the registry at `options.url`; nothing is requested until it is used.
   *
   * @throws VigilError `VIGIL_CONFIG_INVALID` for a URL that is not http(s), a `cacheSize` below 1
   *   or negative retries, backoff or timeout.
   */
  constructor(options: RegistryClientOptions) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(options.url);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      throw new VigilError('VIGIL_CONFIG_INVALID', 'registry.url: must be an http(s) URL', { details: { field: 'registry.url' } });
    }
    const cacheSize = options.cacheSize ?? DEFAULT_REGISTRY_CACHE_SIZE;
    if (!Number.isInteger(cacheSize) || cacheSize < 1) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `registry.cacheSize: must be an integer ≥ 1, got ${String(cacheSize)}`, { details: { field: 'registry.cacheSize' } });
    }
    this.retries = nonNegative('retries', options.retries ?? 3);
    this.retryBackoffMs = nonNegative('retryBackoffMs', options.retryBackoffMs ?? 100);
    this.timeoutMs = nonNegative('timeoutMs', options.timeoutMs ?? 5000);
    this.cacheSize = cacheSize;
    this.url = options.url.replace(/\/+$/, '');
    this.headers = { accept: `${CONTENT_TYPE}, application/json`, ...options.headers };
    this.schemas = new BoundedCache(cacheSize);
    this.registered = new BoundedCache(cacheSize);
  }

  /**
   * The schema with registry id `id` (`GET /schemas/ids/{id}`), from the cache when it is there.
   *
   * @throws VigilError `VIGIL_REGISTRY_REJECTED` with `details.status` 404 when the registry does not
   *   know the id (or another 4xx); `VIGIL_REGISTRY_FAILED` (retriable) when it could not be asked.
   */
  schemaById(id: number): Promise<RegisteredSchema> {
    const cached = this.schemas.get(id);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.pending.get(id);
    if (pending === undefined) {
      pending = this.fetchSchema(id).finally(() => this.pending.delete(id));
      this.pending.set(id, pending);
    }
    return pending;
  }

  /**
   * Registers `schema` (schema JSON text) under `subject` (`POST /subjects/{subject}/versions`) and
   * returns its id. Registries answer with the existing id for a schema already registered, so
   * this is idempotent; the answer is cached per subject and schema.
   *
   * @throws VigilError `VIGIL_REGISTRY_REJECTED` when the registry refuses the schema (e.g. 409:
   *   incompatible with the subject's compatibility rule; 422: invalid); `VIGIL_REGISTRY_FAILED`
   *   (retriable) when it could not be asked.
   */
  async register(subject: string, schema: string, schemaType = 'AVRO'): Promise<number> {
    const key = `${subject}\u0000${schemaType}\u0000${schema}`;
    const cached = this.registered.get(key);
    if (cached !== undefined) return cached;
    const body = JSON.stringify(schemaType === 'AVRO' ? { schema } : { schema, schemaType });
    const what = `register a schema under subject ${subject}`;
    const reply = await this.request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, what, body);
    const id = reply.body.id;
    if (reply.status >= 300) throw this.rejected(what, reply, { subject });
    if (typeof id !== 'number' || !Number.isInteger(id)) throw this.malformed(what, reply.status);
    this.registered.set(key, id);
    return id;
  }

  private async fetchSchema(id: number): Promise<RegisteredSchema> {
    const what = `fetch schema id ${id}`;
    const reply = await this.request('GET', `/schemas/ids/${id}`, what);
    if (reply.status >= 300) throw this.rejected(what, reply, { schemaId: id });
    const { schema, schemaType } = reply.body;
    if (typeof schema !== 'string') throw this.malformed(what, reply.status);
    const found: RegisteredSchema = { id, schema, schemaType: typeof schemaType === 'string' ? schemaType : 'AVRO' };
    this.schemas.set(id, found);
    return found;
  }

  private async request(method: 'GET' | 'POST', path: string, what: string, body?: string): Promise<Reply> {
    const headers = body === undefined ? this.headers : { ...this.headers, 'content-type': CONTENT_TYPE };
    for (let attempt = 0; ; attempt++) {
      let failure: string;
      try {
        const response = await fetch(this.url + path, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
        const reply: Reply = { status: response.status, body: await jsonBody(response) };
        if (!retriableStatus(reply.status)) return reply;
        failure = `HTTP ${reply.status}${describeMessage(reply)}`;
      } catch (cause) {
        failure = cause instanceof Error ? cause.message : String(cause);
      }
      if (attempt >= this.retries) {
        throw new VigilError('VIGIL_REGISTRY_FAILED', `Schema registry ${this.url}: could not ${what} (${attempt + 1} attempt(s)): ${failure}`, {
          details: { url: this.url, attempts: attempt + 1 },
        });
      }
      await sleep(this.retryBackoffMs * 2 ** attempt);
    }
  }

  private rejected(what: string, reply: Reply, details: Record<string, unknown>): VigilError {
    const known = reply.status === 404 ? ' (not known to the registry)' : '';
    return new VigilError('VIGIL_REGISTRY_REJECTED', `Schema registry ${this.url}: could not ${what}${known}: HTTP ${reply.status}${describeMessage(reply)}`, {
      details: { url: this.url, status: reply.status, errorCode: reply.body.error_code, ...details },
    });
  }

  private malformed(what: string, status: number): VigilError {
    return new VigilError('VIGIL_REGISTRY_FAILED', `Schema registry ${this.url}: could not ${what}: HTTP ${status} with an unexpected body`, {
      details: { url: this.url, status },
    });
  }
}

function nonNegative(field: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `registry.${field}: must be a number ≥ 0, got ${String(value)}`, { details: { field: `registry.${field}` } });
  }
  return value;
}

// 408 and 429 say "later", like a 5xx: the same request may succeed.
function retriableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

async function jsonBody(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    // A proxy's HTML error page: the status says enough.
    return {};
  }
}

function describeMessage(reply: Reply): string {
  const { message, error_code: code } = reply.body;
  const parts: string[] = [];
  if (typeof code === 'number') parts.push(`error ${code}`);
  if (typeof message === 'string' && message !== '') parts.push(message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message);
  return parts.length > 0 ? ` (${parts.join(': ')})` : '';
}
