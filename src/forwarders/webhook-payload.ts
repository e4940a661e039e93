/**
 * What a webhook receives for an alert: a Slack-compatible `{ text, blocks }` message, or
 * `{ text, alert }` with the whole alert event for other consumers.
 */
import type { AlertEvent, Severity } from '../model/index.js';
import { formatDuration } from '../rules/duration.js';

/** A Slack incoming-webhook message: `text` is the notification fallback, `blocks` the layout. */
export interface SlackMessage {
  text: string;
  blocks?: SlackBlock[];
}

/** The two Block Kit blocks Vigil uses. */
export type SlackBlock =
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] };

/** The `json` webhook format: the one-line text and the alert event as Vigil emitted it. */
export interface JsonWebhookMessage {
  text: string;
  alert: AlertEvent;
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { INFO: 0, WARNING: 1, CRITICAL: 2 };

/** True when `severity` is at least `min` (`info` < `warning` < `critical`). */
export function severityAtLeast(severity: Severity, min: 'info' | 'warning' | 'critical'): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[min.toUpperCase() as Severity];
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });
const WHOLE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A number for reading: whole above 1,000, else four significant digits. */
export function readableNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1000 ? WHOLE.format(v) : NUMBER.format(v);
}

/** `FIRING critical model-p99-latency (model=gpt-4o): <message>`, plain text. */
export function alertText(alert: AlertEvent): string {
  return `${alert.state} ${alert.severity.toLowerCase()} ${alert.ruleName} (${alert.groupKey}): ${alert.message}`;
}

// Slack treats &, < and > as control characters in mrkdwn and text.
function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function emoji(alert: AlertEvent): string {
  if (alert.state === 'RESOLVED') return ':white_check_mark:';
  return alert.severity === 'CRITICAL' ? ':red_circle:' : alert.severity === 'WARNING' ? ':large_orange_circle:' : ':large_blue_circle:';
}

/** The Slack form of an alert: a fallback `text` and two blocks (headline with message; details). */
export function slackMessage(alert: AlertEvent): SlackMessage {
  const headline = `${emoji(alert)} *${alert.state}* · ${alert.severity.toLowerCase()} · \`${escapeSlack(alert.ruleName)}\` · \`${escapeSlack(alert.groupKey)}\``;
  const details = [
    `${escapeSlack(`${alert.stat} ${alert.signal} ${readableNumber(alert.value)} (${alert.comparator} ${readableNumber(alert.threshold)})`)}`,
    `window ${formatDuration(alert.windowMs)}`,
    `${WHOLE.format(alert.sampleCount)} events`,
    `since ${new Date(alert.episodeStart).toISOString()}`,
    `alert ${alert.alertId}`,
  ].join(' · ');
  return {
    text: `${emoji(alert)} ${escapeSlack(alertText(alert))}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${headline}\n${escapeSlack(alert.message)}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: details }] },
    ],
  };
}

/** The `json` webhook form: `{ text, alert }`. */
export function jsonWebhookMessage(alert: AlertEvent): JsonWebhookMessage {
  return { text: alertText(alert), alert };
}
