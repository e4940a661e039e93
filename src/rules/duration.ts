import { VigilError, type ErrorCode } from '../errors.js';
import { describeValue } from './describe-value.js';

/** Milliseconds per duration unit, largest first so {@link formatDuration} can pick the coarsest exact one. */
const UNIT_MS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

/** A duration unit: `ms`, `s`, `m`, `h` or `d`. */
export type DurationUnit = (typeof UNIT_MS)[number][0];

const UNIT_TO_MS: ReadonlyMap<string, number> = new Map(UNIT_MS);
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const UNITS_HINT = 'use a number followed by ms, s, m, h or d, e.g. 500ms, 10s, 5m, 1h, 1d';

/** Outcome of {@link tryParseDuration}: the milliseconds, or why the input is not a duration. */
export type DurationResult = { ok: true; ms: number } | { ok: false; reason: string };

/**
 * Reads a duration without throwing. Accepts a non-negative integer number of milliseconds, or a
 * string of a non-negative number and one unit (`500ms`, `10s`, `1.5m`, `1h`, `1d`). A string
 * without a unit is refused rather than guessed at. The result must be a whole number of
 * milliseconds within `Number.MAX_SAFE_INTEGER`.
 */
export function tryParseDuration(input: unknown): DurationResult {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { ok: false, reason: `expected a duration, got ${String(input)}` };
    if (input < 0) return { ok: false, reason: `a duration cannot be negative, got ${input}` };
    if (!Number.isSafeInteger(input)) {
      return { ok: false, reason: `a duration in milliseconds must be a whole number, got ${input}` };
    }
    return { ok: true, ms: input };
  }
  if (typeof input !== 'string') {
    return { ok: false, reason: `expected a duration (${UNITS_HINT}), got ${describeValue(input)}` };
  }
  const text = input.trim();
  const match = DURATION_RE.exec(text);
  if (match === null) {
    if (/^\d+(?:\.\d+)?$/.test(text)) {
      return { ok: false, reason: `duration "${input}" has no unit; write ${text}ms, ${text}s, … (${UNITS_HINT})` };
    }
    if (text.startsWith('-')) return { ok: false, reason: `a duration cannot be negative, got "${input}"` };
    return { ok: false, reason: `"${input}" is not a duration (${UNITS_HINT})` };
  }
  const ms = Number(match[1]) * (UNIT_TO_MS.get(match[2]) ?? Number.NaN);
  if (!Number.isSafeInteger(ms)) {
    return Number.isInteger(ms) || ms > Number.MAX_SAFE_INTEGER
      ? { ok: false, reason: `duration "${input}" is too large` }
      : { ok: false, reason: `duration "${input}" is not a whole number of milliseconds` };
  }
  return { ok: true, ms };
}

/**
 * Parses a duration (see {@link tryParseDuration} for the accepted forms) into milliseconds.
 *
 * @param input `'500ms'`, `'10s'`, `'5m'`, `'1h'`, `'1d'`, or a whole number of milliseconds.
 * @param code Error code to raise with; a rules file's default is `VIGIL_RULES_INVALID`.
 * @throws VigilError with `code` when `input` is not a duration.
 */
export function parseDuration(input: string | number, code: ErrorCode = 'VIGIL_RULES_INVALID'): number {
  const result = tryParseDuration(input);
  if (!result.ok) throw new VigilError(code, result.reason, { details: { input } });
  return result.ms;
}

/**
 * Formats milliseconds in the coarsest unit that represents them exactly: `300000` → `'5m'`,
 * `90000` → `'90s'`, `1500` → `'1500ms'`, `0` → `'0s'`. The output always parses back with
 * {@link parseDuration}; values that are not whole milliseconds are printed as `<n>ms`.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (!Number.isSafeInteger(ms)) return `${ms}ms`;
  if (ms < 0) return '-' + formatDuration(-ms);
  for (const [unit, size] of UNIT_MS) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
