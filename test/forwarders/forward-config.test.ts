import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/vigil-config.js';
import { VigilError } from '../../src/errors.js';
import { forwardTargets } from '../../src/forwarders/forward-targets.js';

const KAFKA = { brokers: ['localhost:9092'] };

function problems(raw: unknown): string {
  try {
    parseConfig(raw, { env: {} });
  } catch (e) {
    assert.ok(e instanceof VigilError && e.code === 'VIGIL_CONFIG_INVALID');
    return e.message;
  }
  assert.fail('expected the config to be refused');
}

describe('the forward config section', () => {
  it('fills defaults and turns durations into milliseconds', () => {
    const config = parseConfig(
      { kafka: KAFKA, forward: { alertmanager: { url: 'http://am:9093' }, webhooks: [{ url: 'https://hooks.example/x' }], retry: { backoff: '1s' } } },
      { env: {} },
    );
    assert.deepEqual(config.forward, {
      fromBeginning: false,
      alertmanager: { url: 'http://am:9093', firingTtl: 86_400_000 },
      webhooks: [{ url: 'https://hooks.example/x', format: 'slack', minSeverity: 'info', headers: {} }],
      retry: { attempts: 5, backoff: 1000, maxBackoff: 30_000 },
      timeout: 10_000,
      dedupSize: 10_000,
    });
  });

  it('is optional', () => {
    assert.equal(parseConfig({ kafka: KAFKA }, { env: {} }).forward, undefined);
  });

  it('names each bad key', () => {
    const message = problems({
      forward: { alertmanager: { url: 'am:9093' }, webhooks: [{ url: 'https://x', format: 'teams', minSeverity: 'loud' }], retry: { attempts: 0 }, extra: 1 },
    });
    assert.match(message, /forward\.alertmanager\.url: must be an http:\/\/ or https:\/\/ URL/);
    assert.match(message, /forward\.webhooks\[0\]\.format/);
    assert.match(message, /forward\.webhooks\[0\]\.minSeverity/);
    assert.match(message, /forward\.retry\.attempts/);
    assert.match(message, /forward\.extra: unknown key/);
  });

  it('needs at least one target', () => {
    assert.match(problems({ forward: {} }), /forward: needs alertmanager or at least one webhook/);
  });

  it('makes Alertmanager and each webhook a target named by its place in the config', () => {
    const config = parseConfig(
      { forward: { alertmanager: { url: 'http://am:9093' }, webhooks: [{ url: 'https://a' }, { url: 'https://b', format: 'json' }] } },
      { env: {} },
    );
    assert.deepEqual(forwardTargets(config.forward!).map((t) => t.name), ['alertmanager', 'webhooks[0]', 'webhooks[1]']);
  });
});
