import { isVigilError } from '../errors.js';

/**
 * Prints a fatal error as one clear line and exits non-zero: 2 for bad config, rules or arguments
 * (the message names the key), 1 for anything else.
 */
export function reportFatal(err: unknown): never {
  if (isVigilError(err)) {
    process.stderr.write(`vigil: ${err.message}\n`);
    const usage = err.code === 'VIGIL_CONFIG_INVALID' || err.code === 'VIGIL_RULES_INVALID' || err.code === 'VIGIL_FILE_UNREADABLE';
    process.exit(usage ? 2 : 1);
  }
  process.stderr.write(`vigil: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
