/**
 * The `forward:` section of the config file: where `vigil alerts forward` sends alerts, how it
 * retries and how many recent deliveries it remembers to drop duplicates.
 */
import { z } from 'zod';
import { parseDuration } from '../rules/duration.js';

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    return z.NEVER;
  }
});

const httpUrl = z.string().refine((s) => /^https?:\/\/[^/\s]+/.test(s), { message: 'must be an http:// or https:// URL' });

/** Severities a webhook can be limited to, lowest first. */
export const FORWARD_SEVERITIES = ['info', 'warning', 'critical'] as const;

/** The zod schema of the `forward` config section (durations become milliseconds). */
export const forwardConfigSchema = z
  .strictObject({
    /** Consumer group of the forwarder; default `<kafka.groupId>-forwarder`. */
    groupId: z.string().min(1).optional(),
    /** Where a group without committed offsets starts; default the end (only new alerts). */
    fromBeginning: z.boolean().default(false),
    alertmanager: z
      .strictObject({
        /** Alertmanager's base URL (`http://alertmanager:9093`); alerts go to `<url>/api/v2/alerts`. */
        url: httpUrl,
        /**
         * `endsAt` of a FIRING alert, from the moment it is posted: Alertmanager resolves an alert
         * nobody re-sends after its `endsAt` (or `resolve_timeout` when absent), and Vigil sends
         * FIRING once. `0` leaves `endsAt` unset.
         */
        firingTtl: duration.default(24 * 3_600_000),
      })
      .optional(),
    webhooks: z
      .array(
        z.strictObject({
          url: httpUrl,
          /** `slack`: `{ text, blocks }`; `json`: `{ text, alert }` with the whole alert event. */
          format: z.enum(['slack', 'json']).default('slack'),
          /** Alerts below this severity are not sent to this webhook. */
          minSeverity: z.enum(FORWARD_SEVERITIES).default('info'),
          /** Extra request headers (e.g. authorization); never logged. */
          headers: z.record(z.string(), z.string()).default({}),
        }),
      )
      .default([]),
    retry: z
      .strictObject({
        /** Attempts per alert and target before the round is given up and retried later (≥ 1). */
        attempts: z.number().int().min(1).default(5),
        /** Wait before the second attempt; doubles with each further attempt. */
        backoff: duration.default(500),
        /** Longest wait between attempts, and the pause between rounds while a target is down. */
        maxBackoff: duration.default(30_000),
      })
      .default({ attempts: 5, backoff: 500, maxBackoff: 30_000 }),
    /** Timeout of one HTTP request. */
    timeout: duration.default(10_000),
    /** How many recent (alertId, state) deliveries per target are remembered to drop duplicates. */
    dedupSize: z.number().int().min(1).default(10_000),
  })
  .superRefine((f, ctx) => {
    if (f.alertmanager === undefined && f.webhooks.length === 0) {
      ctx.addIssue({ code: 'custom', path: [], message: 'needs alertmanager or at least one webhook' });
    }
    if (f.retry.maxBackoff < f.retry.backoff) {
      ctx.addIssue({ code: 'custom', path: ['retry', 'maxBackoff'], message: 'must be at least retry.backoff' });
    }
  });

/** The validated `forward` section, durations in milliseconds. */
export type ForwardConfig = z.output<typeof forwardConfigSchema>;

/** One validated webhook entry of {@link ForwardConfig}. */
export type WebhookConfig = ForwardConfig['webhooks'][number];

/** The retry settings of {@link ForwardConfig}. */
export type RetryPolicy = ForwardConfig['retry'];
