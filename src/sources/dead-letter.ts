/**
 * Turning a rejected record's error into a {@link DeadLetter}.
 */
import { VigilError } from '../errors.js';
import type { DeadLetter, DeadLetterClass } from './span-source.js';

/** Every {@link DeadLetterClass}, in the order `/v1/status` lists them. */
export const DEAD_LETTER_CLASSES: readonly DeadLetterClass[] = ['undecodable', 'wrong_schema', 'invalid_field', 'event_time', 'empty', 'unexpected'];

const CLASS_SET = new Set<string>(DEAD_LETTER_CLASSES);

/** The class of a dead letter: its `reasonClass`, else `invalid_field` (what validators reject). */
export function deadLetterClassOf(deadLetter: DeadLetter): DeadLetterClass {
  return deadLetter.reasonClass ?? 'invalid_field';
}

/** A fresh count of zero per {@link DeadLetterClass}. */
export function emptyDeadLetterCounts(): Record<DeadLetterClass, number> {
  return { undecodable: 0, wrong_schema: 0, invalid_field: 0, event_time: 0, empty: 0, unexpected: 0 };
}

/**
 * A dead letter for a record that failed with `error`, located by `where`. The reason is the
 * message of a {@link VigilError} (which never holds text values); for any other error only its
 * name is kept, since a foreign message might quote the record. The class is the error's
 * `details.reasonClass` when it names one, else `invalid_field` for a `VIGIL_RECORD_INVALID` and
 * `unexpected` for anything else.
 */
export function deadLetterFor(error: unknown, where: Omit<DeadLetter, 'reason' | 'field' | 'reasonClass'>): DeadLetter {
  if (error instanceof VigilError) {
    const field = error.details.field;
    const cls = error.details.reasonClass;
    const dl: DeadLetter = typeof field === 'string' ? { reason: error.message, field, ...where } : { reason: error.message, ...where };
    if (typeof cls === 'string' && CLASS_SET.has(cls)) dl.reasonClass = cls as DeadLetterClass;
    else if (error.code !== 'VIGIL_RECORD_INVALID') dl.reasonClass = 'unexpected';
    return dl;
  }
  const name = error instanceof Error ? error.name : typeof error;
  return { reason: `unexpected ${name} while reading the record`, reasonClass: 'unexpected', ...where };
}
