/**
 * The fetch settings of Vigil's Kafka consumers: what `KafkaSpanSource` gives kafkajs by default and
 * the defaults of `kafka.fetch` in the config. No kafkajs import at run time, so the config can use
 * them.
 */
import type { ConsumerConfig } from 'kafkajs';

/**
 * The fetch settings the source gives kafkajs unless `consumerConfig` / `partitionsConsumedConcurrently`
 * say otherwise (benchmarks/broker-throughput.bench.ts gives its raw-consumer baseline the same).
 *
 * - `maxBytes` 32 MiB, not kafkajs' 10 MiB: kafkajs asks for the partitions always in the same order
 *   and the broker fills the response in that order, so when the partitions' shares add up to more
 *   than `maxBytes`, the last ones get nothing until the first have caught up. Event time waits for
 *   the slowest partition: reading a 12-partition backlog with 10 MiB, the slowest lagged the
 *   fastest by 140–220 s of event time instead of ~50 s, twice the requests stayed open — up to the
 *   request assembler's cap of 100 000, which then evicts them incomplete (one run in three took
 *   2.8× as long). 32 MiB keeps up to 32 partitions per member in step; a response is only that big
 *   when all of them are behind.
 * - `maxBytesPerPartition` 1 MiB: at least the largest record batch a broker takes by default
 *   (`message.max.bytes`). A smaller one starves partitions whose batches are larger: past the first
 *   partition of a response, the broker returns nothing for a partition whose next batch exceeds it.
 * - `minBytes` 128 KiB, `maxWaitTimeInMs` 50: a fetch returns once 128 KiB are there, else after
 *   50 ms. With `minBytes` 1 a live stream is read in as many fetches as the round trips allow, a
 *   few records per partition each, and every fetch and batch costs kafkajs and the pipeline much
 *   the same whatever it holds: at a steady 20 k spans/s into 12 partitions (the alert-latency
 *   bench, 100 ms slide; 128 KiB then gather in ~16 ms) `vigil run` used about a tenth less CPU
 *   (35–38 against 40–44 µs per span over two pairs of runs). A span on a quiet stream waits at
 *   most 50 ms longer to be read, and an idle member fetches 20 times a second (+0.7 % of a core
 *   measured; 25 ms cost +3.4 %); while behind, a response is full long before either limit.
 *   (`vigil run` takes both from `kafka.fetch`.)
 */
export const KAFKA_FETCH_DEFAULTS = {
  consumer: { maxBytesPerPartition: 1_048_576, maxBytes: 33_554_432, minBytes: 131_072, maxWaitTimeInMs: 50 },
  partitionsConsumedConcurrently: 1,
} as const satisfies { consumer: Partial<ConsumerConfig>; partitionsConsumedConcurrently: number };
