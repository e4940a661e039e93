/**
 * The baseline of `broker-throughput.bench.ts`: a bare kafkajs consumer-group member that reads a
 * topic from the beginning with `eachBatch` and only counts messages (no decoding, no commits),
 * with the fetch settings Vigil's Kafka source uses (`KAFKA_FETCH_DEFAULTS`), so the difference to
 * `vigil run` is Vigil's own work. Run as a child process, like `vigil run`:
 *
 *   node --import tsx benchmarks/raw-kafka-consumer.ts BROKERS TOPIC GROUP EXPECTED
 *
 * Prints one JSON line: `{ count, firstMs, lastMs, cpuMs }` (epoch ms of the first batch and of the
 * batch that brought the count to EXPECTED, and the process CPU time, all threads, in between),
 * then exits.
 */
import { Kafka, logLevel } from 'kafkajs';
import { KAFKA_FETCH_DEFAULTS } from '../src/sources/kafka-fetch-defaults.js';

const [brokers, topic, groupId, expectedText] = process.argv.slice(2);
const expected = Number(expectedText);
if (!brokers || !topic || !groupId || !(expected > 0)) {
  process.stderr.write('usage: raw-kafka-consumer.ts BROKERS TOPIC GROUP EXPECTED\n');
  process.exit(2);
}

const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'vigil-bench-raw', logLevel: logLevel.ERROR });
const consumer = kafka.consumer({ allowAutoTopicCreation: false, ...KAFKA_FETCH_DEFAULTS.consumer, groupId });
let count = 0;
let firstMs = 0;
let lastMs = 0;
let firstCpu: NodeJS.CpuUsage = { user: 0, system: 0 };
let cpuMs = 0;
let done: () => void = () => undefined;
const finished = new Promise<void>((resolve) => (done = resolve));

await consumer.connect();
await consumer.subscribe({ topics: [topic], fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachBatchAutoResolve: false,
  partitionsConsumedConcurrently: KAFKA_FETCH_DEFAULTS.partitionsConsumedConcurrently,
  eachBatch: async (payload) => {
    const { batch } = payload;
    if (firstMs === 0) {
      firstMs = Date.now();
      firstCpu = process.cpuUsage();
    }
    count += batch.messages.length;
    if (batch.messages.length > 0) payload.resolveOffset(batch.lastOffset());
    if (count >= expected && lastMs === 0) {
      lastMs = Date.now();
      const cpu = process.cpuUsage(firstCpu);
      cpuMs = (cpu.user + cpu.system) / 1000;
      done();
    }
  },
});
const timer = setTimeout(() => {
  process.stderr.write(`raw consumer: only ${count} of ${expected} messages after 10 min\n`);
  process.exit(1);
}, 600_000);
await finished;
clearTimeout(timer);
process.stdout.write(JSON.stringify({ count, firstMs, lastMs, cpuMs }) + '\n');
await consumer.disconnect();
process.exit(0);
