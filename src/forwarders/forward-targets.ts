import type { ForwardConfig } from './forward-config.js';
import type { ForwardTarget } from './forward-target.js';
import { AlertmanagerTarget } from './alertmanager-target.js';
import { WebhookTarget } from './webhook-target.js';

/** The targets a `forward` config names: Alertmanager first, then each webhook as `webhooks[i]`. */
export function forwardTargets(config: ForwardConfig): ForwardTarget[] {
  const targets: ForwardTarget[] = [];
  if (config.alertmanager !== undefined) {
    targets.push(new AlertmanagerTarget({ url: config.alertmanager.url, firingTtlMs: config.alertmanager.firingTtl, timeoutMs: config.timeout }));
  }
  config.webhooks.forEach((webhook, i) => targets.push(new WebhookTarget(`webhooks[${i}]`, webhook, config.timeout)));
  return targets;
}
