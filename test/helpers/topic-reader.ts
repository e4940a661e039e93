/**
 * Reading raw messages back from a topic of the real test broker, for tests of producers.
 */
import { deleteGroups, randomName, testKafka } from './kafka-test-env.js';

/** One message with its Kafka envelope. */
export interface RawMessage {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/**
 * Reads `count` messages from the start of `topic` with a throwaway consumer group, waiting
 * `settleMs` more to catch any extra message.
 *
 * @throws Error when fewer than `count` arrive within `timeoutMs`.
 */
export async function readMessages(topic: string, count: number, timeoutMs: number, settleMs = 0): Promise<RawMessage[]> {
  const groupId = randomName('vigil-test-topic-reader');
  const consumer = testKafka('vigil-test-topic-reader').consumer({ groupId, allowAutoTopicCreation: false });
  const received: RawMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`readMessages: got ${received.length} of ${count} messages from ${topic} within ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          eachMessage: ({ partition, message }) => {
            if (message.value === null) return Promise.resolve();
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(message.headers ?? {})) {
              if (value !== undefined) headers[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
            }
            received.push({ key: message.key?.toString() ?? null, value: message.value, headers, partition, offset: message.offset });
            if (received.length >= count) resolve();
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
    if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
    return received;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
    await deleteGroups([groupId]);
  }
}
