import type { InjectionVerdict } from '../../operators/security/prompt-injection-scanner.js';
import type { PiiScanResult } from '../../operators/security/pii-scanner.js';
import { isJsonText } from './json-syntax.js';

/**
 * What the engine derives from one span before it is counted: its cost, the security scanners'
 * verdicts and the output checks. The pipeline fills ONE mutable instance per span (no allocation
 * per span) and the span family reads it while counting. Holds no text.
 */
export interface SpanEnrichment {
  /** Cost of the span in USD: the producer's `costUsd`, else priced from the table, else 0. */
  costUsd: number;
  /** Where the cost came from; `unpriced` is a model with tokens missing from the price table. */
  costSource: 'producer' | 'table' | 'unpriced' | 'none';
  /** Prompt-injection verdict over `inputText` (the shared benign verdict when there is no text). */
  injection: InjectionVerdict;
  /** True when the span had an `inputText` to scan. */
  inputScanned: boolean;
  /** PII findings over `outputText` (the shared empty result when there is no text). */
  pii: PiiScanResult;
  /** Length of `outputText` in characters, or -1 when the span has none. */
  outputLength: number;
  /** The span declared `expectedFormat: json`. */
  jsonExpected: boolean;
  /** The output parsed as JSON (only meaningful when `jsonExpected`). */
  jsonValid: boolean;
}

/** Checks a model output against `expectedFormat: json`: does it parse as a JSON object or array. */
export function isValidJsonOutput(text: string): boolean {
  // Cheap rejection before a full parse: JSON output must start with { or [ after whitespace.
  let i = 0;
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 10 || text.charCodeAt(i) === 13 || text.charCodeAt(i) === 9)) i++;
  const c = text.charCodeAt(i);
  if (c !== 123 && c !== 91) return false;
  return isJsonText(text);
}
