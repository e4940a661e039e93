/**
 * Helpers for integration tests against the real schema registry named by `REGISTRY_URL` (started
 * by `npm test` for files under test/integration/registry/) and the Kafka broker of `KAFKA_BROKERS`.
 */
import type { KafkaMessage } from 'kafkajs';
import { deleteGroups, randomName, testKafka } from './kafka-test-env.js';

/**
 * The Confluent API base URL from `REGISTRY_URL`.
 *
 * @throws Error when it is unset: these tests must fail, not skip, without a registry.
 */
export function registryUrl(): string {
  const url = process.env.REGISTRY_URL?.trim() ?? '';
  if (url === '') {
    throw new Error(
      'REGISTRY_URL is not set: this integration test needs a real schema registry. Run it through `npm test` ' +
        '(which starts one for test/integration/registry/), or start `node scripts/schema-registry.mjs` and set the REGISTRY_URL it prints.',
    );
  }
  return url;
}

/** The latest version registered under `subject`, as the registry's Confluent API reports it. */
export async function latestVersion(subject: string): Promise<{ id: number; version: number; schema: string }> {
  const res = await fetch(`${registryUrl()}/subjects/${encodeURIComponent(subject)}/versions/latest`);
  if (res.status !== 200) throw new Error(`GET ${subject}/versions/latest: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: number; version: number; schema: string };
}

/** Reads `count` raw messages from the start of `topic` with a throwaway consumer group. */
export async function readRawMessages(topic: string, count: number, timeoutMs: number): Promise<KafkaMessage[]> {
  const groupId = randomName('vigil-test-raw-reader');
  const consumer = testKafka('vigil-test-raw-reader').consumer({ groupId, allowAutoTopicCreation: false });
  const received: KafkaMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`readRawMessages: got ${received.length} of ${count} from ${topic} within ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            received.push(message);
            if (received.length >= count) resolve();
          },
        })
        .catch(reject);
    });
    return received;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
    await deleteGroups([groupId]);
  }
}
