import { createHash } from 'node:crypto';

/**
 * Deterministic id of one firing episode: the first 32 hex characters of the SHA-256 of rule name,
 * group key and episode start (event-time ms, in decimal) joined by NUL. FIRING and its RESOLVED
 * share it, and replaying the same input yields it again.
 */
export function alertIdOf(ruleName: string, groupKey: string, episodeStart: number): string {
  return createHash('sha256').update([ruleName, groupKey, String(episodeStart)].join('\u0000'), 'utf8').digest('hex').slice(0, 32);
}
