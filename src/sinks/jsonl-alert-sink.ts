/**
 * An alert sink writing one JSON object per line, to a file or to a stream such as stdout.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { VigilError } from '../errors.js';
import type { AlertEvent } from '../model/index.js';
import type { AlertSink } from './alert-sink.js';

/** Where a {@link JsonlAlertSink} writes. */
export type JsonlAlertSinkOptions =
  | {
      /** File to write; created if missing. */
      path: string;
      /** Append to an existing file instead of truncating it; default false. */
      append?: boolean;
    }
  | {
      /** Stream to write, e.g. `process.stdout`. */
      stream: Writable;
      /** End the stream on `close`; default false (right for stdout). */
      end?: boolean;
    };

/**
 * Writes each alert as one line of JSON (the `AlertEvent` fields). `send` resolves once the lines
 * are handed to the underlying file or stream (the write callback fired), so an engine that
 * commits after `send` does not lose alerts to a process exit; `close` flushes and, for a file or
 * when asked, ends the stream.
 */
export class JsonlAlertSink implements AlertSink {
  /** The file path, or `stream` when writing to a given stream. */
  readonly target: string;
  private readonly stream: Writable;
  private readonly endOnClose: boolean;
  private failure: Error | undefined;
  private closed = false;
  private readonly onError = (error: Error): void => {
    this.failure ??= error;
  };

  /** A sink writing to `options.path` or `options.stream`. */
  constructor(options: JsonlAlertSinkOptions) {
    if ('path' in options) {
      this.target = options.path;
      this.stream = createWriteStream(options.path, { flags: options.append === true ? 'a' : 'w', encoding: 'utf8' });
      this.endOnClose = true;
    } else {
      this.target = 'stream';
      this.stream = options.stream;
      this.endOnClose = options.end ?? false;
    }
    // Without a listener a stream error (e.g. the file cannot be opened) would crash the process.
    this.stream.on('error', this.onError);
  }

  /**
   * Writes the alerts, one line each.
   *
   * @throws VigilError `VIGIL_SINK_FAILED` if the stream failed; `VIGIL_STOPPED` after `close`.
   */
  async send(alerts: readonly AlertEvent[]): Promise<void> {
    if (this.closed) throw new VigilError('VIGIL_STOPPED', `JSONL alert sink (${this.target}) is closed`);
    if (alerts.length === 0) return;
    let chunk = '';
    for (const alert of alerts) chunk += JSON.stringify(alert) + '\n';
    try {
      if (this.failure !== undefined) throw this.failure;
      await new Promise<void>((resolve, reject) => {
        this.stream.write(chunk, 'utf8', (error) => (error ? reject(error) : resolve()));
      });
    } catch (cause) {
      throw new VigilError('VIGIL_SINK_FAILED', `Could not write ${alerts.length} alert(s) to ${this.target}: ${messageOf(cause)}`, {
        cause,
        details: { target: this.target, count: alerts.length },
      });
    }
  }

  /**
   * Flushes and, for a file (or `end: true`), ends the stream. Idempotent.
   *
   * @throws VigilError `VIGIL_SINK_FAILED` if the final flush failed.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.failure !== undefined) throw this.failure;
      if (this.endOnClose) {
        await new Promise<void>((resolve, reject) => {
          this.stream.once('error', reject);
          this.stream.end(() => resolve());
        });
      } else if (this.stream.writableNeedDrain) {
        await new Promise<void>((resolve) => this.stream.once('drain', () => resolve()));
      }
    } catch (cause) {
      throw new VigilError('VIGIL_SINK_FAILED', `Could not flush alerts to ${this.target}: ${messageOf(cause)}`, {
        cause,
        details: { target: this.target },
      });
    } finally {
      this.stream.off('error', this.onError);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
