/**
 * The Avro contracts in the package's `schemas/` folder, loaded once into avsc `Type`s.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import type { Type } from 'avsc';
import { VigilError } from '../errors.js';

/** The record schemas Vigil ships, by record name (namespace `vigil.v1`). */
export const SCHEMA_FILES = {
  LlmSpan: 'llm-span.avsc',
  AlertEvent: 'alert-event.avsc',
  FeedbackEvent: 'feedback-event.avsc',
  EvalScoreEvent: 'eval-score-event.avsc',
  DeadLetter: 'dead-letter.avsc',
  TaskCheckpoint: 'task-checkpoint.avsc',
  AlertsMarker: 'alerts-marker.avsc',
} as const;

/** Name of one of the shipped record schemas. */
export type SchemaName = keyof typeof SCHEMA_FILES;

/** Fully qualified Avro name of a shipped record schema, e.g. `vigil.v1.LlmSpan`. */
export function qualifiedSchemaName(name: SchemaName): string {
  return `vigil.v1.${name}`;
}

let cachedRoot: string | undefined;
const cachedTypes = new Map<SchemaName, Type>();

/**
 * The package's root directory: the nearest directory at or above this module that holds a
 * `package.json`. Works from `src/codec/` (tsx) and from the compiled `dist/src/codec/` alike.
 */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  const start = dirname(fileURLToPath(import.meta.url));
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new VigilError('VIGIL_FILE_UNREADABLE', `No package.json found at or above ${start}`, {
        details: { path: start },
      });
    }
    dir = parent;
  }
}

/** Absolute path of the package's `schemas/` folder. */
export function schemasDir(): string {
  return join(packageRoot(), 'schemas');
}

/** The parsed JSON of one shipped schema file. */
export function readSchemaJson(name: SchemaName): Record<string, unknown> {
  const path = join(schemasDir(), SCHEMA_FILES[name]);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new VigilError('VIGIL_FILE_UNREADABLE', `Cannot read Avro schema file ${path}`, { cause, details: { path } });
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new VigilError('VIGIL_FILE_UNREADABLE', `Avro schema file ${path} is not valid JSON`, { cause, details: { path } });
  }
}

/**
 * The avsc `Type` of one shipped schema, parsed on first use and cached. Logical types are not
 * registered, so `timestamp-millis` fields read and write as plain epoch-millisecond numbers;
 * unions are never wrapped, so `["null","string"]` reads as `null` or a string.
 */
export function schemaType(name: SchemaName): Type {
  const cached = cachedTypes.get(name);
  if (cached !== undefined) return cached;
  const json = readSchemaJson(name);
  let type: Type;
  try {
    // A private registry per file: the files each define their own named enums.
    type = avro.Type.forSchema(json as Parameters<typeof avro.Type.forSchema>[0], { wrapUnions: 'never', registry: {} });
  } catch (cause) {
    const path = join(schemasDir(), SCHEMA_FILES[name]);
    throw new VigilError('VIGIL_FILE_UNREADABLE', `Avro schema file ${path} is not a valid schema`, { cause, details: { path } });
  }
  cachedTypes.set(name, type);
  return type;
}
