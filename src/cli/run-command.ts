import { once } from 'node:events';
import { loadConfigFile } from '../config/vigil-config.js';
import { defaultRulesFile, loadRules } from '../engine/engine-factory.js';
import { VigilError } from '../errors.js';
import { createLogger } from '../logger.js';
import { startKafkaRunner } from '../runtime/kafka-runner.js';

/** `vigil run --config F`: the Kafka consumer-group service until SIGINT or SIGTERM. */
export async function runRunCommand(opts: { config: string }): Promise<void> {
  const config = loadConfigFile(opts.config);
  if (!config.kafka) throw new VigilError('VIGIL_CONFIG_INVALID', `${opts.config}: kafka: required by vigil run (brokers, topics, groupId)`, { details: { key: 'kafka' } });
  const rules = await loadRules(config.rules ?? defaultRulesFile(), config);
  const logger = createLogger(config.log.level);
  const runner = await startKafkaRunner(config, rules, logger);
  logger.info({ group: config.kafka.groupId, topic: config.kafka.tracesTopic, rules: rules.length }, 'vigil run started');
  const reason = await Promise.race([
    once(process, 'SIGINT').then(() => 'SIGINT'),
    once(process, 'SIGTERM').then(() => 'SIGTERM'),
    runner.fatal.then((err) => err),
  ]);
  logger.info({ reason: typeof reason === 'string' ? reason : 'consumer failure' }, 'shutting down: stop fetching, flush alerts, commit, leave the group');
  await runner.stop();
  logger.info('stopped');
  logger.flush();
  // A crashed consumer exits non-zero so a supervisor restarts it (from the committed offsets).
  if (typeof reason !== 'string') throw reason;
}
