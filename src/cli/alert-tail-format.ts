import type { AlertEvent } from '../model/index.js';
import { readableNumber } from '../forwarders/webhook-payload.js';

const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';
const DIM = '\x1b[2m';
const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const YELLOW = '\x1b[33m';
const CYAN = '\x1b[36m';

function paint(on: boolean, codes: string, text: string): string {
  return on ? `${codes}${text}${RESET}` : text;
}

/** Whether `vigil alerts tail` colours its lines: on a terminal, unless `NO_COLOR` is set. */
export function useColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

/**
 * One alert as `vigil alerts tail` prints it, fields separated by two spaces:
 * `2025-06-01 12:03:10Z  FIRING    CRITICAL  model-p99-latency  model=gpt-4o  p99 latency 9,412 (> 8,000)  <message>`
 * — the transition's event time (UTC), state, severity, rule, group, the statistic's value against
 * the threshold, and the message. With `colour`, FIRING is red, yellow or cyan by severity and
 * RESOLVED green.
 */
export function formatTailLine(alert: AlertEvent, colour = false): string {
  const time = new Date(alert.windowEnd).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
  const severityColour = alert.severity === 'CRITICAL' ? RED + BOLD : alert.severity === 'WARNING' ? YELLOW : CYAN;
  const state = paint(colour, alert.state === 'FIRING' ? severityColour : GREEN, alert.state.padEnd(8));
  const severity = paint(colour, alert.state === 'FIRING' ? severityColour : '', alert.severity.padEnd(8));
  const reading = `${alert.stat} ${alert.signal} ${readableNumber(alert.value)} (${alert.comparator} ${readableNumber(alert.threshold)})`;
  return [paint(colour, DIM, time), state, severity, paint(colour, BOLD, alert.ruleName), alert.groupKey, reading, alert.message].join('  ');
}
