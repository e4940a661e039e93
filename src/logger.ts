import { pino, type Logger, type LevelWithSilent } from 'pino';

/**
 * Vigil's structured logger: pino, JSON lines to stderr so stdout stays free for alerts and
 * summaries. Log lines carry ids, counts and codes only — never prompt text, output text or PII.
 */
export function createLogger(level: LevelWithSilent = 'info', name = 'vigil'): Logger {
  return pino({ name, level, base: { name } }, pino.destination(2));
}

export type { Logger };
