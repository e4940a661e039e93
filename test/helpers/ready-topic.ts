/**
 * Creating a test topic and waiting until its metadata is served, riding out the broker's
 * transient "does not host this topic-partition" answers right after a create (seen on loaded
 * machines, where kafkajs' own leader wait gives up on that error instead of retrying).
 */
import { createTopic, testKafka } from './kafka-test-env.js';

const ATTEMPTS = 20;

/** Creates `name` (if it does not exist yet) and resolves once every partition has a leader. */
export async function createReadyTopic(name: string, partitions = 1): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      await createTopic(name, partitions);
    } catch (error) {
      lastError = error;
    }
    const admin = testKafka('vigil-test-admin').admin();
    try {
      await admin.connect();
      const { topics } = await admin.fetchTopicMetadata({ topics: [name] });
      const parts = topics[0]?.partitions ?? [];
      if (parts.length === partitions && parts.every((p) => p.leader >= 0)) return;
    } catch (error) {
      lastError = error;
    } finally {
      await admin.disconnect();
    }
    await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
  }
  throw new Error(`topic ${name} not ready after ${ATTEMPTS} attempts: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}
