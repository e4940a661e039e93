import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runVigil } from '../helpers/cli.js';

describe('vigil otel-receiver', () => {
  it('needs a kafka section and exits 2 naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-otel-cli-'));
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, 'otel: { port: 0 }\n');
    const r = await runVigil(['otel-receiver', '--config', config], { env: { VIGIL_KAFKA_BROKERS: '' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /kafka: required by vigil otel-receiver/);
  });

  it('refuses a bad otel key and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-otel-cli-'));
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, 'kafka: { brokers: [127.0.0.1:1] }\notel: { port: -1 }\n');
    const r = await runVigil(['otel-receiver', '--config', config]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /otel\.port: /);
  });
});
