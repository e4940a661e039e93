/**
 * Hand-written validation of user feedback (`vigil.v1.FeedbackEvent`) and evaluation scores
 * (`vigil.v1.EvalScoreEvent`), in the manner of `validateSpan`: plain `typeof` checks, errors
 * naming the field and never showing a text value.
 */
import type { EvalScoreEvent, FeedbackEvent, FeedbackType } from '../model/index.js';
import {
  attributesOf,
  eventTime,
  finiteNumber,
  optionalFiniteNumber,
  optionalString,
  optionalText,
  recordOf,
  requiredEnum,
  requiredString,
} from './field-checks.js';

/** The symbols of `vigil.v1.FeedbackType`, in schema order. */
export const FEEDBACK_TYPES: readonly FeedbackType[] = ['THUMBS_UP', 'THUMBS_DOWN', 'CORRECTION', 'REGENERATE', 'ABANDON'];

/** The fields of `FeedbackEvent` that have no default in the schema and must always be present. */
export type RequiredFeedbackField = 'feedbackId' | 'timestamp' | 'type';

/** The fields of `EvalScoreEvent` that have no default in the schema and must always be present. */
export type RequiredEvalField = 'evalId' | 'timestamp' | 'evaluator' | 'metric' | 'score';

/**
 * What {@link validateFeedback} accepts: the required fields, any of the optional ones (missing
 * ones take the schema's defaults), `timestamp` as epoch milliseconds or an ISO-8601 date-time
 * string with a time zone.
 */
export type FeedbackEventInput = Pick<FeedbackEvent, Exclude<RequiredFeedbackField, 'timestamp'>> &
  Partial<Omit<FeedbackEvent, RequiredFeedbackField>> & { timestamp: number | string };

/** What {@link validateEval} accepts; as {@link FeedbackEventInput}. */
export type EvalScoreEventInput = Pick<EvalScoreEvent, Exclude<RequiredEvalField, 'timestamp'>> &
  Partial<Omit<EvalScoreEvent, RequiredEvalField>> & { timestamp: number | string };

const FEEDBACK_TYPE_SET = new Set<string>(FEEDBACK_TYPES);

/**
 * Checks one decoded Avro record or parsed JSON object against the `FeedbackEvent` contract and
 * returns a fresh plain {@link FeedbackEvent}, keys in schema order. Missing (or `undefined`)
 * optional fields take the schema's defaults (`null`, `attributes` `{}`); `timestamp` may be an
 * ISO-8601 date-time string with a time zone and is returned as epoch milliseconds; `score`, when
 * given, must be a finite number (any sign); unknown fields are ignored. The result shares the
 * input's `attributes` object.
 *
 * `comment` is free text the user typed: an error about it names the field and the value's type,
 * never any part of the value.
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` naming the first field at fault in its message and in
 *   `details.field` (`feedback` when the value is not an object at all).
 */
export function validateFeedback(obj: unknown): FeedbackEvent {
  const o = recordOf(obj, 'feedback');
  return {
    feedbackId: requiredString(o, 'feedbackId'),
    traceId: optionalString(o, 'traceId'),
    timestamp: eventTime(o, 'timestamp'),
    type: requiredEnum(o, 'type', FEEDBACK_TYPE_SET, FEEDBACK_TYPES),
    service: optionalString(o, 'service'),
    operation: optionalString(o, 'operation'),
    model: optionalString(o, 'model'),
    userId: optionalString(o, 'userId'),
    tenantId: optionalString(o, 'tenantId'),
    score: optionalFiniteNumber(o, 'score'),
    comment: optionalText(o, 'comment'),
    attributes: attributesOf(o),
  };
}

/**
 * Checks one decoded Avro record or parsed JSON object against the `EvalScoreEvent` contract and
 * returns a fresh plain {@link EvalScoreEvent}, keys in schema order. As {@link validateFeedback}:
 * defaults for missing optional fields, ISO `timestamp`s become epoch milliseconds, `score` must be
 * a finite number (any sign: whether higher is better is the evaluator's convention).
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` naming the first field at fault in its message and in
 *   `details.field` (`eval` when the value is not an object at all).
 */
export function validateEval(obj: unknown): EvalScoreEvent {
  const o = recordOf(obj, 'eval');
  return {
    evalId: requiredString(o, 'evalId'),
    traceId: optionalString(o, 'traceId'),
    timestamp: eventTime(o, 'timestamp'),
    evaluator: requiredString(o, 'evaluator'),
    metric: requiredString(o, 'metric'),
    score: finiteNumber(o, 'score'),
    label: optionalString(o, 'label'),
    service: optionalString(o, 'service'),
    operation: optionalString(o, 'operation'),
    model: optionalString(o, 'model'),
    tenantId: optionalString(o, 'tenantId'),
    attributes: attributesOf(o),
  };
}
