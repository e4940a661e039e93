/**
 * The in-process span source of the embedded mode: the host application pushes span objects,
 * the engine subscribes to batches.
 */
import { Observable, Subject } from 'rxjs';
import { validateSpan } from '../codec/span-validation.js';
import type { LlmSpanInput } from '../codec/span-validation.js';
import { VigilError } from '../errors.js';
import type { LlmSpan } from '../model/index.js';
import { deadLetterFor } from './dead-letter.js';
import type { SpanBatch } from './span-source.js';

/** Options of a {@link MemorySpanSource}. */
export interface MemorySpanSourceOptions {
  /** The `source` of its batches and dead letters; default `memory`. */
  name?: string;
}

// The rejected object as JSON bytes, so the dead letter keeps it; undefined if it has no JSON form.
function jsonPayload(item: unknown): Buffer | undefined {
  try {
    const json = JSON.stringify(item);
    return json === undefined ? undefined : Buffer.from(json, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * A span source fed by `push` calls. Each non-empty `push` becomes one {@link SpanBatch}: the
 * objects that pass `validateSpan` as spans, the others as dead letters with their element
 * number and reason. Batches pushed before anyone subscribes are held and handed, in order, to
 * the first subscriber, so an application may push before the engine starts.
 */
export class MemorySpanSource {
  /** The `source` of this source's batches. */
  readonly name: string;
  /** The batches, one per non-empty `push`; completes after {@link MemorySpanSource.complete}. */
  readonly batches$: Observable<SpanBatch>;
  private readonly subject = new Subject<SpanBatch>();
  private pending: SpanBatch[] = [];
  private isCompleted = false;
  private subjectCompleted = false;

  /** A source named `options.name` (default `memory`). */
  constructor(options: MemorySpanSourceOptions = {}) {
    this.name = options.name ?? 'memory';
    this.batches$ = new Observable<SpanBatch>((subscriber) => {
      const subscription = this.subject.subscribe(subscriber);
      const held = this.pending;
      this.pending = [];
      for (const batch of held) this.subject.next(batch);
      if (this.isCompleted && !this.subjectCompleted) this.completeSubject();
      return subscription;
    });
  }

  /** True once {@link MemorySpanSource.complete} was called. */
  get completed(): boolean {
    return this.isCompleted;
  }

  /**
   * Validates one span or an array of spans and emits them as one batch. Invalid objects do not
   * throw: they are in the batch's `deadLetters` (with `position` = 1-based element number).
   *
   * @returns the batch emitted (empty lists and nothing emitted for an empty array).
   * @throws VigilError `VIGIL_STOPPED` after {@link MemorySpanSource.complete}.
   */
  push(input: LlmSpan | LlmSpanInput | readonly (LlmSpan | LlmSpanInput)[]): SpanBatch {
    if (this.isCompleted) {
      throw new VigilError('VIGIL_STOPPED', `Memory span source ${this.name} was completed; it takes no more spans`);
    }
    const items: readonly unknown[] = Array.isArray(input) ? input : [input];
    const batch: SpanBatch = { source: this.name, spans: [], deadLetters: [] };
    for (let i = 0; i < items.length; i++) {
      try {
        batch.spans.push(validateSpan(items[i]));
      } catch (error) {
        const payload = jsonPayload(items[i]);
        const where = payload === undefined ? { source: this.name, position: i + 1 } : { source: this.name, position: i + 1, payload };
        batch.deadLetters.push(deadLetterFor(error, where));
      }
    }
    if (items.length === 0) return batch;
    if (this.subject.observed) this.subject.next(batch);
    else this.pending.push(batch);
    return batch;
  }

  /** Ends the stream: subscribers complete (after any held batches). Idempotent. */
  complete(): void {
    if (this.isCompleted) return;
    this.isCompleted = true;
    if (this.subject.observed) this.completeSubject();
  }

  private completeSubject(): void {
    this.subjectCompleted = true;
    this.subject.complete();
  }
}
