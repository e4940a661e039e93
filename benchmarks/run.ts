// `npm run bench`: runs the benchmark suite and writes benchmarks/RESULTS.md with the machine, the
// Node version and the date. Every figure is reported next to a baseline measured in the same run
// (the machines are shared and noisy: ratios hold where absolute numbers drift).
// `npm run bench -- --quick` is the smoke run CI executes: small sizes, same code paths.
// Each in-process section runs in a child process of its own (this script with `--section NAME`):
// a section measured after another in the same process inherits its heap, its JIT state and its
// garbage, and read up to a quarter slower than alone. The quick run, whose figures are not read,
// runs them all in this process: a child's start-up (loading the sources) is a second or more each.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatAlertLatencyBench, IMAGE_NODE_OPTIONS, runAlertLatencyBench } from './alert-latency.bench.js';
import { formatBrokerThroughputBench, runBrokerThroughputBench } from './broker-throughput.bench.js';
import { formatDigestBench, runDigestBench } from './digest.bench.js';
import { formatInjectionBench, runInjectionBench } from './injection-scanner.bench.js';
import { formatMemoryBench, runMemoryBench } from './memory.bench.js';
import { formatPiiBench, runPiiBench } from './pii-scanner.bench.js';
import { DEPLOYED_CASES, formatPipelineBench, runPipelineBench } from './pipeline.bench.js';
import { formatQueryApiBench, runQueryApiBench } from './query-api.bench.js';
import { formatUserTrackerBench, runUserTrackerBench } from './user-tracker.bench.js';
import { withBenchBroker } from './kafka-bench-env.js';

const quick = process.argv.includes('--quick');
const out = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : fileURLToPath(new URL('RESULTS.md', import.meta.url));

/** The in-process sections, in the order they run: title in RESULTS.md, name, and what prints their markdown. */
const IN_PROCESS: readonly { title: string; name: string; full?: boolean; nodeOptions?: string; run: () => Promise<string> }[] = [
  { title: 't-digest', name: 'digest', run: async () => formatDigestBench(await runDigestBench({ quick })) },
  { title: 'In-process pipeline (spans/s, × avsc decode-only of the same records)', name: 'pipeline', run: async () => formatPipelineBench(await runPipelineBench({ quick })) },
  // The targets' cases again as `vigil run` is deployed (the Docker image's Node options), in a child started with them.
  {
    title: `In-process pipeline with the Docker image's Node options (\`${IMAGE_NODE_OPTIONS}\`)`,
    name: 'pipeline, image options',
    full: true,
    nodeOptions: IMAGE_NODE_OPTIONS,
    run: async () => formatPipelineBench(await runPipelineBench({ quick, only: DEPLOYED_CASES, nodeOptions: IMAGE_NODE_OPTIONS })),
  },
  { title: 'Query API under load', name: 'query API', run: async () => formatQueryApiBench(await runQueryApiBench({ quick })) },
  { title: 'Memory: 1 M users and 1 k keys × 60 sub-windows', name: 'memory', run: async () => formatMemoryBench(await runMemoryBench({ quick })) },
  // It holds 1 M users even with --quick (tens of seconds): the smoke run leaves it to the full one.
  { title: 'User tracker', name: 'user tracker', full: true, run: async () => formatUserTrackerBench(await runUserTrackerBench({ quick })) },
  { title: 'PII scanner', name: 'PII scanner', run: async () => formatPiiBench(await runPiiBench({ quick })) },
  { title: 'Prompt-injection scanner', name: 'injection scanner', run: async () => formatInjectionBench(await runInjectionBench({ quick })) },
];

const only = process.argv.includes('--section') ? process.argv[process.argv.indexOf('--section') + 1] : undefined;
if (only !== undefined) {
  // A child: one section's markdown on stdout, nothing else.
  const entry = IN_PROCESS.find((e) => e.name === only);
  if (entry === undefined) throw new Error(`bench: no section named ${JSON.stringify(only)} (one of ${IN_PROCESS.map((e) => e.name).join(', ')})`);
  const text = await entry.run();
  // Exit once written: a section may leave handles open (workers, timers) that would keep it alive.
  process.stdout.write(text, () => process.exit(0));
  await new Promise(() => undefined);
}

const sections: string[] = [];
const started = Date.now();

/** Runs one section, reporting progress and how long it took on stderr. */
async function section(title: string, name: string, run: () => Promise<string>): Promise<void> {
  const t0 = Date.now();
  process.stderr.write(`bench: ${name}${quick ? ' (quick)' : ''}\n`);
  sections.push(`## ${title}\n\n` + (await run()));
  process.stderr.write(`bench: ${name} took ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

/** This script as a child running the section `name` alone (same Node options); its stdout. */
function inChild(name: string, nodeOptions?: string): Promise<string> {
  const args = [...process.execArgv, ...(nodeOptions?.split(' ') ?? []), fileURLToPath(import.meta.url), '--section', name, ...(quick ? ['--quick'] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(new Error(`bench: section ${name} exited with ${signal ?? `code ${String(code)}`}`));
    });
  });
}

for (const entry of IN_PROCESS) {
  if (quick && entry.full === true) continue;
  await section(entry.title, entry.name, quick ? entry.run : () => inChild(entry.name, entry.nodeOptions));
}

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
const toFile = !quick || process.argv.includes('--out');
if (toFile) writeFileSync(out, text);
process.stderr.write(`bench: done in ${((Date.now() - started) / 1000).toFixed(1)} s${quick ? '' : `, wrote ${out}`}\n`);
// A quick run's sections ran in this process and may leave handles open (workers, timers): exit once written.
if (!toFile) process.stdout.write(text, () => process.exit(0));
else if (quick) process.exit(0);
