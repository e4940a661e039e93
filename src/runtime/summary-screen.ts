import type { QueryBackend } from '../api/query-backend.js';
import type { AlertEvent } from '../model/index.js';
import { formatDuration } from '../rules/duration.js';

function ms(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  return v >= 10_000 ? `${(v / 1000).toFixed(1)}s` : `${Math.round(v)}`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length);
}

function lpad(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

/** A one-line rendering of an alert for a terminal: time, state, severity, rule and message. */
export function formatAlertLine(alert: AlertEvent): string {
  const at = new Date(alert.windowEnd).toISOString().slice(11, 19);
  return `[${at}] ${pad(alert.state, 8)} ${pad(alert.severity.toLowerCase(), 8)} ${alert.ruleName}: ${alert.message}`;
}

/**
 * The demo's live one-screen summary: per model, latency and TTFT percentiles over the default
 * window, then the firing alerts and the engine's counters. Plain text; the caller clears the screen.
 */
export function renderSummary(backend: QueryBackend, extra: { title: string; eventsPerSecond?: number }): string {
  const windowMs = backend.defaultWindowMs;
  const q = [0.5, 0.95, 0.99];
  const lat = backend.percentiles({ metric: 'latency', windowMs, groupBy: ['model'], filter: {}, quantiles: q });
  const ttft = backend.percentiles({ metric: 'ttft', windowMs, groupBy: ['model'], filter: {}, quantiles: q });
  const ttftByModel = new Map(ttft.groups.map((g) => [g.labels.model, g]));
  const status = backend.status();
  const lines: string[] = [];
  const asOf = status.maxEventTime === null ? '-' : new Date(status.maxEventTime).toISOString().replace('T', ' ').slice(0, 19);
  lines.push(`${extra.title} — event time ${asOf} UTC — window ${formatDuration(windowMs)}`);
  lines.push('');
  lines.push(
    `${pad('model', 24)}${lpad('count', 8)}  ${lpad('lat p50', 8)}${lpad('p95', 8)}${lpad('p99', 8)}  ${lpad('ttft p50', 9)}${lpad('p95', 8)}${lpad('p99', 8)}`,
  );
  for (const g of lat.groups) {
    const t = ttftByModel.get(g.labels.model);
    lines.push(
      `${pad(g.labels.model ?? '', 24)}${lpad(String(g.count), 8)}  ${lpad(ms(g.quantiles.p50), 8)}${lpad(ms(g.quantiles.p95), 8)}${lpad(ms(g.quantiles.p99), 8)}  ${lpad(ms(t?.quantiles.p50), 9)}${lpad(ms(t?.quantiles.p95), 8)}${lpad(ms(t?.quantiles.p99), 8)}`,
    );
  }
  lines.push('');
  const firing = backend.alerts('firing', 20);
  lines.push(`firing alerts: ${firing.length}`);
  for (const a of firing) lines.push('  ' + formatAlertLine(a));
  lines.push('');
  const rate = extra.eventsPerSecond === undefined ? '' : `, ${Math.round(extra.eventsPerSecond).toLocaleString('en-US')} events/s`;
  lines.push(`events ${status.eventsIn.toLocaleString('en-US')}${rate}, late ${status.lateEvents}, dead letters ${status.deadLetters}, alerts emitted ${status.alertsEmitted}`);
  return lines.join('\n');
}
