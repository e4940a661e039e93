/**
 * A minimal client of the Confluent Schema Registry REST API: find the id of a schema under a
 * subject, registering it when it is new.
 */
import { VigilError } from '../errors.js';

/** How to reach a schema registry. */
export interface SchemaRegistryOptions {
  /** Base URL, e.g. `http://registry:8081`. */
  url: string;
  /** HTTP basic credentials (Confluent Cloud: API key and secret). */
  basicAuth?: { username: string; password: string };
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Per-request timeout in ms; default 10 000. */
  timeoutMs?: number;
  /** Register the schema when the subject does not have it yet; default true. */
  autoRegister?: boolean;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

interface RegistryReply {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Looks up and registers Avro schemas. Ids are cached per subject and schema, so a registry is
 * asked once per process; a failed look-up is not cached.
 */
export class SchemaRegistryClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly autoRegister: boolean;
  private readonly ids = new Map<string, Promise<number>>();

  /** A client of the registry at `options.url`; nothing is requested until {@link schemaId}. */
  constructor(options: SchemaRegistryOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.autoRegister = options.autoRegister ?? true;
    this.headers = { 'content-type': CONTENT_TYPE, accept: `${CONTENT_TYPE}, application/json`, ...options.headers };
    if (options.basicAuth !== undefined) {
      const { username, password } = options.basicAuth;
      this.headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
  }

  /**
   * The id of `schema` (Avro schema JSON text) under `subject`: looked up with
   * `POST /subjects/{subject}`, else registered with `POST /subjects/{subject}/versions`.
   *
   * @throws VigilError `VIGIL_SINK_FAILED` when the registry cannot be reached, refuses the schema
   *   (e.g. 409, incompatible with the subject's latest version) or does not have it and
   *   `autoRegister` is off.
   */
  schemaId(subject: string, schema: string): Promise<number> {
    const cacheKey = `${subject}\u0000${schema}`;
    let id = this.ids.get(cacheKey);
    if (id === undefined) {
      id = this.resolve(subject, schema);
      this.ids.set(cacheKey, id);
      void id.catch(() => this.ids.delete(cacheKey));
    }
    return id;
  }

  /** The id of `schema` under `subject`, or `undefined` when the subject or schema is unknown (404). */
  async lookup(subject: string, schema: string): Promise<number | undefined> {
    const reply = await this.post(`/subjects/${encodeURIComponent(subject)}`, schema, subject);
    if (reply.status === 404) return undefined;
    return this.idOf(reply, subject, 'look up');
  }

  /** Registers `schema` under `subject` (idempotent on the registry's side) and returns its id. */
  async register(subject: string, schema: string): Promise<number> {
    const reply = await this.post(`/subjects/${encodeURIComponent(subject)}/versions`, schema, subject);
    return this.idOf(reply, subject, 'register');
  }

  private async resolve(subject: string, schema: string): Promise<number> {
    const found = await this.lookup(subject, schema);
    if (found !== undefined) return found;
    if (!this.autoRegister) {
      throw new VigilError('VIGIL_SINK_FAILED', `Schema registry ${this.base}: subject ${subject} does not have the schema, and autoRegister is off`, {
        details: { subject, url: this.base },
      });
    }
    return this.register(subject, schema);
  }

  private idOf(reply: RegistryReply, subject: string, what: string): number {
    const id = reply.body.id;
    if (reply.status >= 200 && reply.status < 300 && typeof id === 'number' && Number.isInteger(id)) return id;
    const message = typeof reply.body.message === 'string' ? reply.body.message.slice(0, 200) : 'no message';
    throw new VigilError('VIGIL_SINK_FAILED', `Schema registry ${this.base}: cannot ${what} the schema of subject ${subject}: HTTP ${reply.status} (${message})`, {
      details: { subject, url: this.base, status: reply.status, errorCode: reply.body.error_code },
    });
  }

  private async post(path: string, schema: string, subject: string): Promise<RegistryReply> {
    let response: Response;
    try {
      response = await fetch(this.base + path, {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify({ schema }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new VigilError('VIGIL_SINK_FAILED', `Schema registry ${this.base} unreachable for subject ${subject}: ${cause instanceof Error ? cause.message : String(cause)}`, {
        cause,
        details: { subject, url: this.base },
      });
    }
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
    } catch {
      // A proxy's HTML error page: the status says enough.
    }
    return { status: response.status, body };
  }
}
