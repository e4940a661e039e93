import type { AlertEvent } from '../model/index.js';
import type { WebhookConfig } from './forward-config.js';
import type { ForwardTarget } from './forward-target.js';
import { postJson } from './http-post.js';
import { jsonWebhookMessage, severityAtLeast, slackMessage } from './webhook-payload.js';

/** Posts alerts at or above its minimum severity to a webhook, as a Slack message or as JSON. */
export class WebhookTarget implements ForwardTarget {
  readonly name: string;
  private readonly config: WebhookConfig;
  private readonly timeoutMs: number;

  /** `name` is its place in the config, e.g. `webhooks[0]`: the URL may carry a secret and is never logged. */
  constructor(name: string, config: WebhookConfig, timeoutMs: number) {
    this.name = name;
    this.config = config;
    this.timeoutMs = timeoutMs;
  }

  accepts(alert: AlertEvent): boolean {
    return severityAtLeast(alert.severity, this.config.minSeverity);
  }

  async deliver(alert: AlertEvent): Promise<void> {
    const body = this.config.format === 'slack' ? slackMessage(alert) : jsonWebhookMessage(alert);
    await postJson(this.config.url, body, { timeoutMs: this.timeoutMs, headers: this.config.headers, target: this.name });
  }
}
