import { AlertCodec } from '../codec/avro-codec.js';
import { RegistryClient, ResolvingDecoder } from '../codec/registry/index.js';
import type { AlertEvent } from '../model/index.js';

/**
 * Turns an alerts-topic message value into an alert; rejects with `VIGIL_RECORD_INVALID` for a
 * value that is not one, and with a retriable error when the schema registry could not be asked.
 */
export type AlertDecoder = (value: Buffer) => Promise<AlertEvent>;

/**
 * The decoder for alerts as `vigil run` writes them: plain Avro `AlertEvent`s, or, when a schema
 * registry is configured (`registry.url`), the Confluent wire format resolved by writer schema id
 * (plain Avro values are still read).
 */
export function alertDecoder(registry?: { url: string; cacheSize?: number }): AlertDecoder {
  const codec = new AlertCodec();
  if (registry === undefined) return async (value) => codec.decode(value);
  const resolving = new ResolvingDecoder<AlertEvent>({
    registry: new RegistryClient({ url: registry.url, cacheSize: registry.cacheSize }),
    readerType: codec.type,
    record: 'AlertEvent',
    decodePlain: (value) => codec.decode(value),
  });
  return (value) => resolving.decode(value);
}
