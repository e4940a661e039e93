#!/usr/bin/env node
// One-shot job of docker-compose.yml: registers Vigil's Avro contracts in the schema registry under
// Confluent's TopicNameStrategy subjects (<topic>-value), waiting for the registry to come up.
// No dependencies: Node 20's fetch.
//
//   REGISTRY_URL=http://schema-registry:8080/apis/ccompat/v7 \
//   SUBJECTS=llm-traces-value=/schemas/llm-span.avsc,vigil-alerts-value=/schemas/alert-event.avsc \
//   node register-schemas.mjs
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const registry = (process.env.REGISTRY_URL ?? '').replace(/\/+$/, '');
const subjects = (process.env.SUBJECTS ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)
  .map((pair) => {
    const [subject, file] = pair.split('=');
    if (!subject || !file) throw new Error(`SUBJECTS: expected subject=file, got "${pair}"`);
    return { subject, file };
  });
if (!registry || subjects.length === 0) {
  console.error('register-schemas: set REGISTRY_URL and SUBJECTS (subject=file,...)');
  process.exit(2);
}

const deadline = Date.now() + Number(process.env.WAIT_SECONDS ?? 180) * 1000;
async function post(subject, schema) {
  for (;;) {
    try {
      const res = await globalThis.fetch(`${registry}/subjects/${encodeURIComponent(subject)}/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema, schemaType: 'AVRO' }),
      });
      const body = await res.text();
      if (res.ok) return JSON.parse(body).id;
      if (res.status < 500) throw new Error(`${subject}: HTTP ${res.status} ${body.slice(0, 200)}`);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith(`${subject}:`)) throw err;
    }
    if (Date.now() > deadline) throw new Error(`${subject}: the registry at ${registry} did not answer in time`);
    await sleep(2000);
  }
}

for (const { subject, file } of subjects) {
  const schema = JSON.stringify(JSON.parse(readFileSync(file, 'utf8')));
  const id = await post(subject, schema);
  console.log(`registered ${file} as ${subject} (id ${id})`);
}
