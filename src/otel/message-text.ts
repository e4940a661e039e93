/**
 * The plain text of GenAI semantic-convention chat messages (`gen_ai.input.messages`,
 * `gen_ai.output.messages`), for the detectors that read `inputText` and `outputText`.
 */
import type { OtlpValue } from './otlp-span.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function messageText(message: unknown, out: string[]): void {
  if (typeof message === 'string') {
    out.push(message);
    return;
  }
  if (!isRecord(message)) return;
  // Older instrumentations put the text straight in `content`.
  if (typeof message.content === 'string') out.push(message.content);
  if (!Array.isArray(message.parts)) return;
  for (const part of message.parts) {
    if (typeof part === 'string') out.push(part);
    else if (isRecord(part) && (part.type === 'text' || part.type === undefined) && typeof part.content === 'string') out.push(part.content);
  }
}

/**
 * The text parts of a messages attribute, one per line in message order, or `null` when it holds
 * none. The value may be the JSON string instrumentations record, or the same structure as an
 * OTLP array/key-value list; a string that is not JSON is taken as the text itself. Parts other
 * than text (tool calls, blobs, files) are skipped. The result is cut to `maxChars`.
 */
export function messagesText(value: OtlpValue | undefined, maxChars: number): string | null {
  if (value === undefined || value === null) return null;
  let messages: unknown = value;
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'object' && parsed !== null) messages = parsed;
    } catch {
      // Not JSON: the text itself.
    }
  }
  const out: string[] = [];
  if (Array.isArray(messages)) for (const m of messages) messageText(m, out);
  else messageText(messages, out);
  if (out.length === 0) return null;
  const text = out.join('\n');
  return text.length > maxChars ? text.slice(0, maxChars) : text;
}
