import { Command, InvalidArgumentError, Option } from 'commander';
import { runAlertsForwardCommand, runAlertsTailCommand } from './alerts-command.js';
import { runDemoCommand } from './demo-command.js';
import { runProduceDemoCommand } from './produce-demo-command.js';
import { runReplayCommand } from './replay-command.js';
import { runRunCommand } from './run-command.js';
import { runOtelReceiverCommand } from './otel-receiver-command.js';
import { reportFatal } from './fatal.js';
import { tryParseDuration } from '../rules/duration.js';

function durationArg(value: string): number {
  const r = tryParseDuration(value);
  if (!r.ok) throw new InvalidArgumentError(r.reason);
  return r.ms;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

function portArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port 0-65535, got "${value}"`);
  return n;
}

const program = new Command();
program
  .name('vigil')
  .description('Real-time monitoring of production LLM systems: sliding-window signals and alerts over LLM trace spans.')
  .showHelpAfterError();

program
  .command('demo')
  .description('run the engine on synthetic LLM traffic with planted incidents; no Kafka needed')
  .option('--speed <x>', 'event-time seconds per wall-clock second', positiveNumber, 20)
  .option('--fast', 'run as fast as possible instead of at --speed', false)
  .option('--duration <d>', 'stop after this much event time, e.g. 15m (default: run until Ctrl-C)', durationArg)
  .option('--seed <n>', 'seed of the traffic generator', (v) => Number.parseInt(v, 10), 42)
  .option('--rate <n>', 'end-user requests per second of event time', positiveNumber, 40)
  .option('--start <iso>', 'event time of the first request (default: now)')
  .option('--rules <file>', 'rules file (default: rules/demo-rules.yaml)')
  .option('--alerts-out <file>', 'also write alerts as JSON lines to this file')
  .option('--host <host>', 'query API host', '127.0.0.1')
  .option('--port <port>', 'query API port', portArg, 8080)
  .option('--no-serve', 'do not serve the query API')
  .addOption(new Option('--summary-every <ms>', 'redraw the summary every this many wall ms (0: never)').argParser(Number).default(2000))
  .action(runDemoCommand);

program
  .command('replay')
  .description('process a .avro or .jsonl span file in event time, as fast as possible; alerts as JSON lines')
  .argument('<file>', 'spans as an Avro object container file (.avro) or JSON lines (.jsonl)')
  .option('--rules <file>', 'rules file (default: rules/default-rules.yaml)')
  .option('--config <file>', 'config file for the window settings (slide, lateness, retention)')
  .option('--alerts-out <file>', 'write alerts to this file instead of stdout')
  .option('--dead-letters <file>', 'write rejected records (reason and position) as JSON lines to this file')
  .option('--serve', 'keep the query API up afterwards, answering as of the last event', false)
  .option('--host <host>', 'query API host', '127.0.0.1')
  .option('--port <port>', 'query API port', portArg, 8080)
  .action(runReplayCommand);

program
  .command('run')
  .description('run as a Kafka consumer-group member: spans in, alerts out, query API')
  .requiredOption('--config <file>', 'config file (YAML); VIGIL_* environment variables override its keys')
  .action(runRunCommand);

const alerts = program.command('alerts').description('consume the alerts topic: follow it, or forward alerts to Alertmanager and webhooks');

alerts
  .command('tail')
  .description('print each alert of the alerts topic as one line: time, state, severity, rule, group, value vs threshold, message')
  .requiredOption('--config <file>', 'config file (YAML): kafka.brokers and kafka.alertsTopic')
  .option('--from-beginning', 'start at the earliest alert (for a group without committed offsets)', false)
  .option('--group <id>', 'consumer group, whose committed offsets let a later tail resume (default: a throwaway group)')
  .action(runAlertsTailCommand);

alerts
  .command('forward')
  .description('forward alerts to Alertmanager and webhooks (config key forward), at least once, committing after every target acknowledged')
  .requiredOption('--config <file>', 'config file (YAML) with kafka and forward sections')
  .option('--group <id>', 'consumer group (default: forward.groupId, else <kafka.groupId>-forwarder)')
  .action(runAlertsForwardCommand);

program
  .command('produce-demo')
  .description("produce the demo's synthetic traffic (with planted incidents) to the config's traces, feedback and evals topics")
  .requiredOption('--config <file>', 'config file (YAML): kafka.brokers and the topics')
  .option('--rate <n>', 'end-user requests per second of event time', positiveNumber, 40)
  .option('--speed <x>', 'event-time seconds per wall-clock second', positiveNumber, 1)
  .option('--seed <n>', 'seed of the traffic generator', (v) => Number.parseInt(v, 10), 42)
  .option('--duration <d>', 'stop after this much event time, e.g. 20m (default: run until Ctrl-C)', durationArg)
  .option('--cycle <d>', 'start the planted incidents again every this much event time, e.g. 30m', durationArg)
  .option('--start <iso>', 'event time of the first request (default: now)')
  .action(runProduceDemoCommand);

program
  .command('otel-receiver')
  .description('receive OpenTelemetry traces over OTLP/HTTP (POST /v1/traces), map GenAI spans to LlmSpan and produce them to the traces topic')
  .requiredOption('--config <file>', 'config file (YAML): kafka.brokers, kafka.tracesTopic and the otel section')
  .action(runOtelReceiverCommand);

program.parseAsync(process.argv).catch(reportFatal);
