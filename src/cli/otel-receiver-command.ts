import { once } from 'node:events';
import { loadConfigFile } from '../config/vigil-config.js';
import { VigilError } from '../errors.js';
import { createLogger } from '../logger.js';
import { OTLP_TRACES_PATH, startOtelReceiver } from '../otel/otel-receiver.js';
import { createVigilProducer } from '../sdk/vigil-producer.js';

/**
 * `vigil otel-receiver --config F`: the OTLP/HTTP trace receiver (config key `otel`) producing the
 * mapped spans to `kafka.tracesTopic`, until SIGINT or SIGTERM.
 */
export async function runOtelReceiverCommand(opts: { config: string }): Promise<void> {
  const config = loadConfigFile(opts.config);
  if (!config.kafka) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `${opts.config}: kafka: required by vigil otel-receiver (brokers, tracesTopic)`, { details: { key: 'kafka' } });
  }
  const logger = createLogger(config.log.level);
  const producer = createVigilProducer({
    brokers: config.kafka.brokers,
    clientId: `${config.kafka.clientId}-otel-receiver`,
    topic: config.kafka.tracesTopic,
    keyBy: 'user',
    logger,
  });
  // Fail at start rather than on the first export when the brokers are unreachable.
  await producer.connect();
  const receiver = await startOtelReceiver({
    producer,
    host: config.otel.host,
    port: config.otel.port,
    tenantAttribute: config.otel.tenantAttribute,
    captureContent: config.otel.captureContent,
    logger,
  });
  logger.info(
    { endpoint: `${receiver.url}${OTLP_TRACES_PATH}`, port: receiver.port, topic: config.kafka.tracesTopic, captureContent: config.otel.captureContent },
    'vigil otel-receiver started',
  );
  const signal = await Promise.race([once(process, 'SIGINT').then(() => 'SIGINT'), once(process, 'SIGTERM').then(() => 'SIGTERM')]);
  logger.info({ reason: signal }, 'shutting down: finish requests in progress, flush spans');
  await receiver.close();
  await producer.close();
  logger.info({ ...receiver.stats(), ...producer.stats() }, 'stopped');
  logger.flush();
}
