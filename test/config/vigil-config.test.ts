import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile, parseConfig } from '../../src/config/vigil-config.js';
import { isVigilError } from '../../src/errors.js';

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(isVigilError(err, 'VIGIL_CONFIG_INVALID'), `expected VIGIL_CONFIG_INVALID, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the config to be rejected');
}

describe('vigil config', () => {
  it('an empty config gets the documented defaults, durations in milliseconds', () => {
    const c = parseConfig({}, { env: {} });
    assert.deepEqual(c.windows, {
      slide: 10_000,
      window: 300_000,
      retention: 3_600_000,
      allowedLateness: 30_000,
      idleAdvanceAfter: 30_000,
      slowSubWindow: 60_000,
      slowRetention: 90_000_000,
    });
    assert.equal(c.signals.scanInjection, true);
    assert.equal(c.signals.requestTimeout, 300_000);
    assert.deepEqual(c.api, { enabled: true, host: '127.0.0.1', port: 8080, rateLimit: { max: 600, window: 60_000 }, bodyLimit: 16_384 });
    assert.equal(c.kafka, undefined);
  });

  it('a kafka section gets default topics and group id', () => {
    const c = parseConfig({ kafka: { brokers: ['b:9092'] } }, { env: {} });
    assert.deepEqual(c.kafka, {
      brokers: ['b:9092'],
      clientId: 'vigil',
      groupId: 'vigil',
      tracesTopic: 'llm-traces',
      alertsTopic: 'vigil-alerts',
      fromBeginning: false,
      deadLetterMaxBytes: 524_288,
      maxPendingAlerts: 10_000,
      sinkRetry: { initialBackoff: 200, maxBackoff: 30_000 },
      state: 'partitioned',
      recoveryHorizon: 70 * 60_000,
      fetch: { minBytes: 131_072, maxWait: 50 },
    });
  });

  it('kafka.fetch sets how the input consumer batches a live stream, and a wait of 0 or beyond 10 s or no bytes is refused, naming the key', () => {
    const c = parseConfig({ kafka: { brokers: ['b'], fetch: { minBytes: 1, maxWait: '500ms' } } }, { env: {} });
    assert.deepEqual(c.kafka?.fetch, { minBytes: 1, maxWait: 500 });
    assert.deepEqual(parseConfig({ kafka: { brokers: ['b'], fetch: { maxWait: '10s' } } }, { env: {} }).kafka?.fetch, { minBytes: 131_072, maxWait: 10_000 });
    for (const maxWait of ['1m', 0]) {
      assert.match(configError(() => parseConfig({ kafka: { brokers: ['b'], fetch: { maxWait } } }, { env: {} })), /kafka\.fetch\.maxWait: must be between 1ms and 10s/);
    }
    assert.match(configError(() => parseConfig({ kafka: { brokers: ['b'], fetch: { minBytes: 0 } } }, { env: {} })), /kafka\.fetch\.minBytes/);
    assert.match(configError(() => parseConfig({ kafka: { brokers: ['b'], fetch: { minByte: 10 } } }, { env: {} })), /kafka\.fetch\.minByte: unknown key/);
  });

  it('a partials topic that is also an input or the alerts topic is refused, naming the key', () => {
    const msg = configError(() => parseConfig({ kafka: { brokers: ['b'], deadLetterTopic: 'x', partialsTopic: 'x' } }, { env: {} }));
    assert.match(msg, /kafka\.deadLetterTopic: must differ from kafka\.partialsTopic/);
  });

  it('a wrong-typed key is named with its path', () => {
    const msg = configError(() => parseConfig({ api: { port: 'eighty' } }, { env: {}, source: 'vigil.yaml' }));
    assert.match(msg, /^vigil\.yaml: api\.port: /);
  });

  it('an unknown key is named, so typos do not pass silently', () => {
    const msg = configError(() => parseConfig({ kafka: { brokers: ['b'], grupId: 'x' } }, { env: {} }));
    assert.match(msg, /kafka\.grupId: unknown key/);
  });

  it('a bad duration names the key and says why', () => {
    const msg = configError(() => parseConfig({ windows: { slide: '10 parsecs' } }, { env: {} }));
    assert.match(msg, /windows\.slide: .*not a duration/);
  });

  it('a window that is not a multiple of the slide is rejected naming windows.window', () => {
    const msg = configError(() => parseConfig({ windows: { slide: '10s', window: '45s' } }, { env: {} }));
    assert.match(msg, /windows\.window: must be a multiple of windows\.slide/);
  });

  it('environment variables override the file', () => {
    const c = parseConfig(
      { kafka: { brokers: ['file:9092'], groupId: 'from-file' }, api: { port: 1 } },
      { env: { VIGIL_KAFKA_BROKERS: 'a:1, b:2', VIGIL_KAFKA_GROUP_ID: 'from-env', VIGIL_API_PORT: '9000' } },
    );
    assert.deepEqual(c.kafka?.brokers, ['a:1', 'b:2']);
    assert.equal(c.kafka?.groupId, 'from-env');
    assert.equal(c.api.port, 9000);
  });

  it('a malformed environment override names the variable', () => {
    const msg = configError(() => parseConfig({}, { env: { VIGIL_API_PORT: 'http' } }));
    assert.match(msg, /VIGIL_API_PORT: expected an integer/);
  });

  it('a YAML syntax error names the file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'kafka:\n  brokers: [a\napi: {\n');
    const msg = configError(() => loadConfigFile(path, {}));
    assert.ok(msg.startsWith(path), msg);
    assert.match(msg, /YAML syntax error/);
  });

  it('a relative rules path resolves against the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
    const path = join(dir, 'vigil.yaml');
    writeFileSync(path, 'rules: rules/mine.yaml\n');
    assert.equal(loadConfigFile(path, {}).rules, join(dir, 'rules', 'mine.yaml'));
  });
});
