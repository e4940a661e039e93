// `npm run bench`: runs the benchmark suite and writes benchmarks/RESULTS.md with the machine, the
// Node version and the date. Every figure is reported next to a baseline measured in the same run
// (the machines are shared and noisy: ratios hold where absolute numbers drift).
// `npm run bench -- --quick` is the smoke run CI executes: small sizes, same code paths.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatAlertLatencyBench, runAlertLatencyBench } from './alert-latency.bench.js';
import { formatBrokerThroughputBench, runBrokerThroughputBench } from './broker-throughput.bench.js';
import { formatDigestBench, runDigestBench } from './digest.bench.js';
import { formatInjectionBench, runInjectionBench } from './injection-scanner.bench.js';
import { formatMemoryBench, runMemoryBench } from './memory.bench.js';
import { formatPiiBench, runPiiBench } from './pii-scanner.bench.js';
import { formatPipelineBench, runPipelineBench } from './pipeline.bench.js';
import { formatQueryApiBench, runQueryApiBench } from './query-api.bench.js';
import { formatUserTrackerBench, runUserTrackerBench } from './user-tracker.bench.js';
import { withBenchBroker } from './kafka-bench-env.js';

const quick = process.argv.includes('--quick');
const out = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : fileURLToPath(new URL('RESULTS.md', import.meta.url));

const sections: string[] = [];
const started = Date.now();

/** Runs one in-process section, reporting progress and how long it took on stderr. */
async function section(title: string, name: string, run: () => Promise<string>): Promise<void> {
  const t0 = Date.now();
  process.stderr.write(`bench: ${name}${quick ? ' (quick)' : ''}\n`);
  sections.push(`## ${title}\n\n` + (await run()));
  process.stderr.write(`bench: ${name} took ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

await section('t-digest', 'digest', async () => formatDigestBench(await runDigestBench({ quick })));
await section('In-process pipeline (spans/s, × avsc decode-only of the same records)', 'pipeline', async () => formatPipelineBench(await runPipelineBench({ quick })));
await section('Query API under load', 'query API', async () => formatQueryApiBench(await runQueryApiBench({ quick })));
await section('Memory: 1 M users and 1 k keys × 60 sub-windows', 'memory', async () => formatMemoryBench(await runMemoryBench({ quick })));
// It holds 1 M users even with --quick (tens of seconds): the smoke run leaves it to the full one.
if (!quick) await section('User tracker', 'user tracker', async () => formatUserTrackerBench(await runUserTrackerBench({ quick })));
await section('PII scanner', 'PII scanner', async () => formatPiiBench(await runPiiBench({ quick })));
await section('Prompt-injection scanner', 'injection scanner', async () => formatInjectionBench(await runInjectionBench({ quick })));

// Through a real Kafka broker on loopback (needs Java, like the integration tests): one broker for
// both benches, stopped afterwards. `--no-kafka` skips them.
if (!process.argv.includes('--no-kafka')) {
  await withBenchBroker(async (broker) => {
    await section('Through Kafka: `vigil run` vs a raw kafkajs consumer', 'broker throughput', async () => formatBrokerThroughputBench(await runBrokerThroughputBench({ quick, broker })));
    await section('Through Kafka: alert latency', 'alert latency', async () => formatAlertLatencyBench(await runAlertLatencyBench({ quick, broker })));
  });
}

const header = [
  '# Vigil benchmark results',
  '',
  `- date: ${new Date().toISOString()}`,
  `- machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
  `- node: ${process.version}`,
  `- mode: ${quick ? 'quick (smoke run: small sizes, figures not representative)' : 'full'}`,
  `- took: ${((Date.now() - started) / 1000).toFixed(1)} s`,
  '',
].join('\n');

const text = header + '\n' + sections.join('\n\n') + '\n';
// A quick run only proves the suite still runs; it does not overwrite the committed full results.
if (quick && !process.argv.includes('--out')) process.stdout.write(text);
else writeFileSync(out, text);
process.stderr.write(`bench: done in ${((Date.now() - started) / 1000).toFixed(1)} s${quick ? '' : `, wrote ${out}`}\n`);
