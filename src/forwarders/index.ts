/**
 * Alert consumers: following the alerts topic, and forwarding alerts to Alertmanager and webhooks.
 */
export { forwardConfigSchema, FORWARD_SEVERITIES } from './forward-config.js';
export type { ForwardConfig, WebhookConfig, RetryPolicy } from './forward-config.js';
export type { ForwardTarget } from './forward-target.js';
export { postJson } from './http-post.js';
export type { PostOptions } from './http-post.js';
export { withRetry, backoffDelay } from './retry.js';
export type { RetryOptions } from './retry.js';
export { RecentSet } from './recent-set.js';
export { AlertmanagerTarget, alertmanagerAlert, alertmanagerEndpoint } from './alertmanager-target.js';
export type { AlertmanagerAlert, AlertmanagerTargetOptions, AlertmanagerPayloadOptions } from './alertmanager-target.js';
export { WebhookTarget } from './webhook-target.js';
export { slackMessage, jsonWebhookMessage, alertText, severityAtLeast, readableNumber } from './webhook-payload.js';
export type { SlackMessage, SlackBlock, JsonWebhookMessage } from './webhook-payload.js';
export { AlertForwarder } from './alert-forwarder.js';
export type { AlertForwarderOptions, AlertForwarderSettings, ForwarderCounts } from './alert-forwarder.js';
export { AlertTail } from './alert-tail.js';
export type { AlertTailOptions, AlertTailSettings } from './alert-tail.js';
export { forwardTargets } from './forward-targets.js';
export { alertDecoder } from './alert-decoder.js';
export type { AlertDecoder } from './alert-decoder.js';
