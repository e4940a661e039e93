/**
 * Avro binary encoding of the partials topic's control records: `vigil.v1.TaskCheckpoint`
 * (`schemas/task-checkpoint.avsc`) and `vigil.v1.AlertsMarker` (`schemas/alerts-marker.avsc`).
 */
import type { TaskCheckpoint } from '../signals/signal-pipeline.js';
import { VigilError } from '../errors.js';
import { schemaType, type SchemaName } from './schemas.js';

/** Encodes a task checkpoint. @throws VigilError `VIGIL_RECORD_INVALID` naming the fields that do not fit. */
export function encodeTaskCheckpoint(checkpoint: TaskCheckpoint): Buffer {
  return encode('TaskCheckpoint', checkpoint);
}

/** Decodes a task checkpoint. @throws VigilError `VIGIL_RECORD_INVALID` when the bytes are not one. */
export function decodeTaskCheckpoint(bytes: Buffer): TaskCheckpoint {
  return decode('TaskCheckpoint', bytes) as TaskCheckpoint;
}

/** Encodes an alerts marker: alerts of group boundaries at or before `through` are acknowledged. */
export function encodeAlertsMarker(through: number): Buffer {
  return encode('AlertsMarker', { through });
}

/** Decodes an alerts marker's `through`. @throws VigilError `VIGIL_RECORD_INVALID` when the bytes are not one. */
export function decodeAlertsMarker(bytes: Buffer): number {
  return (decode('AlertsMarker', bytes) as { through: number }).through;
}

function encode(name: SchemaName, record: unknown): Buffer {
  const type = schemaType(name);
  try {
    return type.toBuffer(record);
  } catch {
    // avsc's message would quote values (user ids): name the fields instead.
    const fields: string[] = [];
    type.isValid(record, { errorHook: (path: string[]) => fields.push(path.join('.')) });
    throw new VigilError('VIGIL_RECORD_INVALID', `${name}: these fields do not fit the schema: ${fields.join(', ') || '(unknown)'}`, { details: { fields } });
  }
}

function decode(name: SchemaName, bytes: Buffer): unknown {
  try {
    // Plain objects, not avsc's record classes: they travel on into merged state and tests compare them.
    return structuredClone(schemaType(name).fromBuffer(bytes) as unknown);
  } catch (cause) {
    throw new VigilError('VIGIL_RECORD_INVALID', `${name}: ${bytes.length} bytes are not a ${name} record (truncated, trailing bytes or another schema)`, { cause, details: { field: name } });
  }
}
