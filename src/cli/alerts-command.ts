import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { loadConfigFile } from '../config/vigil-config.js';
import type { VigilConfig } from '../config/vigil-config.js';
import { VigilError } from '../errors.js';
import { AlertForwarder, AlertTail, alertDecoder, forwardTargets } from '../forwarders/index.js';
import { createLogger } from '../logger.js';
import { kafkaClient } from '../sources/kafka-client.js';
import { formatTailLine, useColour } from './alert-tail-format.js';

/** Options of `vigil alerts tail`. */
export interface AlertsTailOptions {
  config: string;
  fromBeginning: boolean;
  group?: string;
}

/** Options of `vigil alerts forward`. */
export interface AlertsForwardOptions {
  config: string;
  group?: string;
}

function kafkaSection(config: VigilConfig, file: string, command: string): NonNullable<VigilConfig['kafka']> {
  if (!config.kafka) throw new VigilError('VIGIL_CONFIG_INVALID', `${file}: kafka: required by ${command} (brokers, alertsTopic)`, { details: { key: 'kafka' } });
  return config.kafka;
}

function untilSignal(extra: Promise<Error>[] = []): Promise<string | Error> {
  return Promise.race([once(process, 'SIGINT').then(() => 'SIGINT'), once(process, 'SIGTERM').then(() => 'SIGTERM'), ...extra]);
}

/**
 * `vigil alerts tail`: prints each alert of the alerts topic as one line (see `formatTailLine`)
 * until SIGINT/SIGTERM. Without `--group` it reads as a throwaway group, deleted on exit; with one,
 * that group's committed offsets let a later tail resume where this one stopped.
 */
export async function runAlertsTailCommand(opts: AlertsTailOptions): Promise<void> {
  const config = loadConfigFile(opts.config);
  const k = kafkaSection(config, opts.config, 'vigil alerts tail');
  const logger = createLogger('warn');
  const groupId = opts.group ?? `vigil-tail-${randomBytes(6).toString('hex')}`;
  const kafka = kafkaClient({ brokers: k.brokers, clientId: `${k.clientId}-tail` }, logger, 'vigil-alert-tail');
  const colour = useColour(process.stdout);
  const tail = new AlertTail({
    kafka,
    topic: k.alertsTopic,
    groupId,
    fromBeginning: opts.fromBeginning,
    decode: alertDecoder(config.registry),
    logger,
    onAlert: (alert) => process.stdout.write(formatTailLine(alert, colour) + '\n'),
    onInvalid: ({ partition, offset, reason }) => process.stderr.write(`vigil: ${k.alertsTopic}[${partition}]@${offset}: not an AlertEvent (${reason})\n`),
  });
  await tail.start();
  process.stderr.write(`vigil: following ${k.alertsTopic} as group ${groupId}${opts.fromBeginning ? ' from the beginning' : ''}; Ctrl-C to stop\n`);
  await untilSignal();
  await tail.stop();
  if (opts.group === undefined) {
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => admin.disconnect());
  }
}

/**
 * `vigil alerts forward`: the alert forwarder (Alertmanager, webhooks) as a consumer group, until
 * SIGINT/SIGTERM. Exits non-zero when the consumer crashed for good, so a supervisor restarts it.
 */
export async function runAlertsForwardCommand(opts: AlertsForwardOptions): Promise<void> {
  const config = loadConfigFile(opts.config);
  const k = kafkaSection(config, opts.config, 'vigil alerts forward');
  if (!config.forward) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `${opts.config}: forward: required by vigil alerts forward (alertmanager and/or webhooks)`, { details: { key: 'forward' } });
  }
  const f = config.forward;
  const logger = createLogger(config.log.level);
  const groupId = opts.group ?? f.groupId ?? `${k.groupId}-forwarder`;
  const targets = forwardTargets(f);
  const forwarder = new AlertForwarder({
    brokers: k.brokers,
    clientId: `${k.clientId}-forwarder`,
    topic: k.alertsTopic,
    groupId,
    fromBeginning: f.fromBeginning,
    targets,
    retry: f.retry,
    dedupSize: f.dedupSize,
    decode: alertDecoder(config.registry),
    logger,
  });
  await forwarder.start();
  logger.info({ topic: k.alertsTopic, group: groupId, targets: targets.map((t) => t.name) }, 'vigil alerts forward started');
  const reason = await untilSignal([forwarder.fatal]);
  logger.info({ reason: typeof reason === 'string' ? reason : 'consumer failure' }, 'shutting down: finish the alert in hand, commit, leave the group');
  await forwarder.stop();
  logger.info({ ...forwarder.counts() }, 'stopped');
  logger.flush();
  if (typeof reason !== 'string') throw reason;
}
