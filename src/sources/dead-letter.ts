/**
 * Turning a rejected record's error into a {@link DeadLetter}.
 */
import { VigilError } from '../errors.js';
import type { DeadLetter } from './span-source.js';

/**
 * A dead letter for a record that failed with `error`, located by `where`. The reason is the
 * message of a {@link VigilError} (which never holds text values); for any other error only its
 * name is kept, since a foreign message might quote the record.
 */
export function deadLetterFor(error: unknown, where: Omit<DeadLetter, 'reason' | 'field'>): DeadLetter {
  if (error instanceof VigilError) {
    const field = error.details.field;
    return typeof field === 'string' ? { reason: error.message, field, ...where } : { reason: error.message, ...where };
  }
  const name = error instanceof Error ? error.name : typeof error;
  return { reason: `unexpected ${name} while reading the record`, ...where };
}
