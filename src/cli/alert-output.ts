import { createWriteStream } from 'node:fs';
import { JsonlAlertSink, type AlertSink } from '../sinks/index.js';

/** An alert sink writing JSON lines to a file (created or truncated). */
export async function openJsonlAlertSink(path: string): Promise<AlertSink> {
  const stream = createWriteStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  return new JsonlAlertSink({ stream });
}

/** An alert sink writing JSON lines to stdout (left open on close). */
export function stdoutAlertSink(): AlertSink {
  return new JsonlAlertSink({ stream: process.stdout, end: false });
}
