/**
 * Decoding records written with another version of a contract: the writer schema comes from the
 * schema registry by the id in each value's wire-format header and is resolved to Vigil's reader
 * schema as Avro's schema resolution specifies.
 */
import avro from 'avsc';
import type { Type } from 'avsc';
import { VigilError, isVigilError } from '../../errors.js';
import { BoundedCache } from './bounded-cache.js';
import { DEFAULT_REGISTRY_CACHE_SIZE } from './registry-client.js';
import type { RegisteredSchema } from './registry-client.js';
import { readWireFormat } from './wire-format.js';

/** Decodes one message value into a record, throwing `VIGIL_RECORD_INVALID` when it cannot. */
export interface RecordDecoder<T> {
  decode(value: Buffer): T;
}

/** Where writer schemas come from: a {@link RegistryClient} or anything that answers the same. */
export interface WriterSchemaSource {
  /**
   * The schema with registry id `id`. Rejects with `VIGIL_REGISTRY_REJECTED` when the id is
   * unknown, and with any other error when the registry could not be asked.
   */
  schemaById(id: number): Promise<RegisteredSchema>;
  /** Most schemas it caches; the decoder keeps as many resolvers unless told otherwise. */
  readonly cacheSize?: number;
}

/** Options of a {@link ResolvingDecoder}. */
export interface ResolvingDecoderOptions<T> {
  /** The registry to ask for writer schemas. */
  registry: WriterSchemaSource;
  /** The reader schema: the contract Vigil ships (e.g. `SpanCodec#type`). */
  readerType: Type;
  /** The record's name in error messages, e.g. `LlmSpan`. */
  record: string;
  /** Decodes and validates a plain Avro binary record in the reader schema (e.g. `SpanCodec#decode`). */
  decodePlain: (value: Buffer) => T;
  /** Most resolvers kept (least recently used evicted); default the registry's `cacheSize`, else 1000. */
  cacheSize?: number;
}

type Resolver = ReturnType<Type['createResolver']>;

/** What a writer schema id means for decoding; ids are immutable, so this is cached per id. */
type Resolution = { kind: 'same' } | { kind: 'resolve'; resolver: Resolver } | { kind: 'refused'; error: VigilError };

/**
 * Decodes message values in the Confluent wire format (magic byte 0, 4-byte schema id, Avro body)
 * by resolving the writer schema the registry holds for the id to the reader schema, so producers
 * on an older or newer compatible version of the contract keep working. Values without the magic
 * byte are decoded as plain Avro in the reader schema.
 *
 * Decoding is synchronous once the ids are known: {@link ResolvingDecoder.prepare} fetches the
 * writer schemas of a run of values (one request per id not yet cached) and returns the decoder for
 * that run. A value whose id the registry does not know, or whose writer schema cannot be resolved
 * to the reader schema (or is not Avro), fails with `VIGIL_RECORD_INVALID` (a dead letter, class
 * `wrong_schema`); a registry that cannot be reached makes `prepare` reject with
 * `VIGIL_REGISTRY_FAILED` (retriable), so the caller can retry the run instead of losing it.
 */
export class ResolvingDecoder<T> {
  private readonly registry: WriterSchemaSource;
  private readonly readerType: Type;
  private readonly record: string;
  private readonly decodePlain: (value: Buffer) => T;
  private readonly resolutions: BoundedCache<number, Resolution>;

  constructor(options: ResolvingDecoderOptions<T>) {
    this.registry = options.registry;
    this.readerType = options.readerType;
    this.record = options.record;
    this.decodePlain = options.decodePlain;
    this.resolutions = new BoundedCache(options.cacheSize ?? options.registry.cacheSize ?? DEFAULT_REGISTRY_CACHE_SIZE);
  }

  /**
   * Looks up the writer schemas of every wire-format value among `values` (`null`s are skipped) and
   * returns a decoder for them. The returned decoder holds its own resolutions, so it stays valid
   * however many other ids pass through the cache meanwhile.
   *
   * @throws VigilError `VIGIL_REGISTRY_FAILED` (retriable) when the registry could not be asked.
   */
  async prepare(values: Iterable<Buffer | null>): Promise<RecordDecoder<T>> {
    const ids = new Set<number>();
    for (const value of values) {
      if (value === null) continue;
      const wire = readWireFormat(value);
      if (wire !== undefined) ids.add(wire.schemaId);
    }
    const known = new Map<number, Resolution>();
    for (const id of ids) known.set(id, await this.resolutionOf(id));
    return { decode: (value) => this.decodeWith(value, known) };
  }

  /**
   * Decodes one value, fetching its writer schema first when needed.
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` as the decoders of {@link ResolvingDecoder.prepare};
   *   `VIGIL_REGISTRY_FAILED` when the registry could not be asked.
   */
  async decode(value: Buffer): Promise<T> {
    return (await this.prepare([value])).decode(value);
  }

  private async resolutionOf(id: number): Promise<Resolution> {
    const cached = this.resolutions.get(id);
    if (cached !== undefined) return cached;
    let registered: RegisteredSchema;
    try {
      registered = await this.registry.schemaById(id);
    } catch (error) {
      // Not cached: an id unknown to this registry now may be known once the producer's registry is.
      if (isVigilError(error, 'VIGIL_REGISTRY_REJECTED')) {
        return this.refused(id, `${this.record}: schema id ${id} is not known to the schema registry`, error);
      }
      throw error;
    }
    const resolution = this.resolve(registered);
    this.resolutions.set(id, resolution);
    return resolution;
  }

  private resolve({ id, schema, schemaType }: RegisteredSchema): Resolution {
    if (schemaType.toUpperCase() !== 'AVRO') {
      return this.refused(id, `${this.record}: schema id ${id} is a ${schemaType.slice(0, 20)} schema, not Avro`);
    }
    let writer: Type;
    try {
      // Parsed like the reader schema (see schemaType), so the resolver sees like with like.
      writer = avro.Type.forSchema(JSON.parse(schema) as Parameters<typeof avro.Type.forSchema>[0], { wrapUnions: 'never', registry: {} });
    } catch (cause) {
      return this.refused(id, `${this.record}: schema id ${id} is not a valid Avro schema (${problemOf(cause)})`, cause);
    }
    if (writer.equals(this.readerType)) return { kind: 'same' };
    try {
      return { kind: 'resolve', resolver: this.readerType.createResolver(writer) };
    } catch (cause) {
      const name = writer.name ?? writer.typeName;
      return this.refused(id, `${this.record}: the writer schema id ${id} (${name}) cannot be resolved to the reader schema ${String(this.readerType.name)} (${problemOf(cause)})`, cause);
    }
  }

  private refused(id: number, message: string, cause?: unknown): Resolution {
    return { kind: 'refused', error: new VigilError('VIGIL_RECORD_INVALID', message, { cause, details: { field: 'schemaId', schemaId: id, reasonClass: 'wrong_schema' } }) };
  }

  private decodeWith(value: Buffer, known: ReadonlyMap<number, Resolution>): T {
    const wire = readWireFormat(value);
    if (wire === undefined) return this.decodePlain(value);
    const resolution = known.get(wire.schemaId);
    if (resolution === undefined) {
      throw new VigilError('VIGIL_RECORD_INVALID', `${this.record}: schema id ${wire.schemaId} was not looked up before decoding (prepare the run first)`, {
        details: { field: 'schemaId', schemaId: wire.schemaId, reasonClass: 'wrong_schema' },
      });
    }
    if (resolution.kind === 'refused') throw resolution.error;
    if (resolution.kind === 'same') return this.decodePlain(wire.body);
    let record: unknown;
    try {
      record = this.readerType.fromBuffer(wire.body, resolution.resolver);
    } catch (cause) {
      throw new VigilError('VIGIL_RECORD_INVALID', `${this.record}: not a valid Avro binary record of schema id ${wire.schemaId} (${problemOf(cause)})`, {
        cause,
        details: { field: this.record, schemaId: wire.schemaId, reasonClass: 'undecodable' },
      });
    }
    // Re-encoded in the reader schema, the record goes through the same validation as plain Avro.
    return this.decodePlain(this.readerType.toBuffer(record));
  }
}

// avsc's parse and resolution errors name types and fields, never record content.
function problemOf(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  return message.length > 160 ? `${message.slice(0, 160)}…` : message;
}
