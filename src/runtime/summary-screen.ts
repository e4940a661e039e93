import type { QueryBackend } from '../api/query-backend.js';
import type { SignalBackend } from '../api/signal-query.js';
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
export function renderSummary(backend: QueryBackend & SignalBackend, extra: { title: string; eventsPerSecond?: number }): string {
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
  lines.push(...checklistLines(backend, windowMs));
  lines.push('');
  const firing = backend.alerts('firing', 20);
  lines.push(`firing alerts: ${firing.length}`);
  for (const a of firing) lines.push('  ' + formatAlertLine(a));
  lines.push('');
  const rate = extra.eventsPerSecond === undefined ? '' : `, ${Math.round(extra.eventsPerSecond).toLocaleString('en-US')} events/s`;
  lines.push(`events ${status.eventsIn.toLocaleString('en-US')}${rate}, late ${status.lateEvents}, dead letters ${status.deadLetters}, alerts emitted ${status.alertsEmitted}`);
  return lines.join('\n');
}

function pct(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(1)}%`;
}

function num(v: number | undefined, digits = 0): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

// One line per checklist family beyond latency, each over the default window.
function checklistLines(backend: SignalBackend, windowMs: number): string[] {
  const ask = (signal: string, stats: string[], groupBy: string[], w = windowMs) =>
    backend.signal({ signal, windowMs: w, groupBy, filter: {}, stats }).groups;
  const out: string[] = [];
  const errors = ask('errors', ['timeout_rate', 'rate_limit_rate', 'fallback_rate'], ['model']);
  out.push('errors by model   ' + errors.map((g) => `${g.labels.model}: timeouts ${pct(g.values.timeout_rate)}`).join(', '));
  const req = ask('requests', ['failed_rate', 'degraded_rate', 'cost_anomaly'], ['service']);
  out.push('requests          ' + req.map((g) => `${g.labels.service}: failed ${pct(g.values.failed_rate)} degraded ${pct(g.values.degraded_rate)} cost anomalies ${num(g.values.cost_anomaly)}`).join(', '));
  const cost = ask('cost', ['usd_per_min', 'unpriced'], []);
  const rc = ask('request_cost', ['p50', 'p99'], []);
  out.push(`cost              $${num(cost[0]?.values.usd_per_min, 4)}/min, per request p50 $${num(rc[0]?.values.p50, 5)} p99 $${num(rc[0]?.values.p99, 5)}, unpriced calls ${num(cost[0]?.values.unpriced)}`);
  const sec = ask('security', ['injection', 'injection_sophisticated', 'pii', 'pii_findings'], []);
  out.push(`security          injection attempts ${num(sec[0]?.values.injection)} (sophisticated ${num(sec[0]?.values.injection_sophisticated)}), outputs with PII ${num(sec[0]?.values.pii)} (${num(sec[0]?.values.pii_findings)} findings)`);
  const slow = Math.ceil(windowMs / 60_000) * 60_000;
  const evals = ask('eval_score', ['count', 'mean'], ['metric'], slow);
  const fb = ask('feedback', ['thumbs_down/(thumbs_up+thumbs_down)', 'regenerate_rate'], [], slow);
  out.push(
    'quality           ' +
      evals.map((g) => `${g.labels.metric} ${num(g.values.mean, 2)}`).join(', ') +
      `; thumbs down ${pct(fb[0]?.values['thumbs_down/(thumbs_up+thumbs_down)'])}, regenerate ${pct(fb[0]?.values.regenerate_rate)}`,
  );
  const out2 = ask('output', ['json_valid/json_expected', 'finish_length/responses'], []);
  const len = ask('output_length', ['p50'], []);
  out.push(`output            length p50 ${num(len[0]?.values.p50)} chars, JSON valid ${pct(out2[0]?.values['json_valid/json_expected'])}, truncated ${pct(out2[0]?.values['finish_length/responses'])}`);
  const users = backend.anomalousUsers('rate_spike', 3);
  const probing = backend.anomalousUsers('probing', 3);
  out.push(`users             rate spikes: ${users.map((u) => u.userId).join(', ') || 'none'}; probing: ${probing.map((u) => u.userId).join(', ') || 'none'}`);
  return out;
}
