/**
 * Prometheus Alertmanager as an alert target: alerts posted to its v2 API, one Alertmanager alert
 * per Vigil episode (the `alertId` label), resolved by the RESOLVED event's `endsAt`.
 */
import type { AlertEvent } from '../model/index.js';
import type { ForwardTarget } from './forward-target.js';
import { postJson } from './http-post.js';

/** One alert as Alertmanager's `POST /api/v2/alerts` takes it (`postableAlert`). */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
}

/** Options of {@link alertmanagerAlert}. */
export interface AlertmanagerPayloadOptions {
  /** Wall-clock now, epoch ms. */
  now: number;
  /** `endsAt` of a FIRING alert is `now + firingTtlMs`; 0 leaves it unset. */
  firingTtlMs: number;
}

// Alertmanager label names follow Prometheus': [a-zA-Z_][a-zA-Z0-9_]*.
function labelName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned;
}

/**
 * The Alertmanager form of an alert. Labels: the group's dimensions (names made valid label names),
 * then `alertname` (the rule), `severity` (lower case) and `alertId`, which win over a dimension of
 * the same name; the `alertId` label makes each episode its own Alertmanager alert, so a RESOLVED
 * closes exactly its FIRING. Annotations: `message`. `startsAt` is the episode start (event time);
 * a RESOLVED sets `endsAt` to its transition time, a FIRING to `now + firingTtlMs` because Vigil
 * sends it once and Alertmanager would otherwise resolve it after its `resolve_timeout`.
 */
export function alertmanagerAlert(alert: AlertEvent, options: AlertmanagerPayloadOptions): AlertmanagerAlert {
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(alert.groupLabels)) labels[labelName(name)] = value;
  labels.alertname = alert.ruleName;
  labels.severity = alert.severity.toLowerCase();
  labels.alertId = alert.alertId;
  const out: AlertmanagerAlert = {
    labels,
    annotations: { message: alert.message },
    startsAt: new Date(alert.episodeStart).toISOString(),
  };
  if (alert.state === 'RESOLVED') out.endsAt = new Date(Math.max(alert.windowEnd, alert.episodeStart)).toISOString();
  else if (options.firingTtlMs > 0) out.endsAt = new Date(options.now + options.firingTtlMs).toISOString();
  return out;
}

/** The v2 alerts endpoint under an Alertmanager base URL (kept as is when it already names it). */
export function alertmanagerEndpoint(url: string): string {
  const base = url.replace(/\/+$/, '');
  return base.endsWith('/api/v2/alerts') ? base : `${base}/api/v2/alerts`;
}

/** Options of an {@link AlertmanagerTarget}. */
export interface AlertmanagerTargetOptions {
  url: string;
  firingTtlMs: number;
  timeoutMs: number;
  /** Wall clock, epoch ms; default `Date.now`. */
  now?: () => number;
}

/** Posts every alert to Alertmanager's `POST /api/v2/alerts` as a one-element list. */
export class AlertmanagerTarget implements ForwardTarget {
  readonly name = 'alertmanager';
  private readonly endpoint: string;
  private readonly options: AlertmanagerTargetOptions;

  constructor(options: AlertmanagerTargetOptions) {
    this.options = options;
    this.endpoint = alertmanagerEndpoint(options.url);
  }

  /** Alertmanager gets every alert. */
  accepts(): boolean {
    return true;
  }

  async deliver(alert: AlertEvent): Promise<void> {
    const payload = [alertmanagerAlert(alert, { now: (this.options.now ?? Date.now)(), firingTtlMs: this.options.firingTtlMs })];
    await postJson(this.endpoint, payload, { timeoutMs: this.options.timeoutMs, target: this.name });
  }
}
