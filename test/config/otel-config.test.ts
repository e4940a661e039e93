import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigFile, parseConfig } from '../../src/config/vigil-config.js';
import { isVigilError } from '../../src/errors.js';
import { ROOT } from '../helpers/cli.js';
import { join } from 'node:path';

describe('the otel section of the config', () => {
  it('defaults to 127.0.0.1:4318, tenant.id and no content capture', () => {
    assert.deepEqual(parseConfig({}, { env: {} }).otel, { host: '127.0.0.1', port: 4318, tenantAttribute: 'tenant.id', captureContent: false });
  });

  it('takes its keys from the file and host and port from VIGIL_OTEL_HOST and VIGIL_OTEL_PORT', () => {
    const c = parseConfig({ otel: { tenantAttribute: 'org.id', captureContent: true, port: 1 } }, { env: { VIGIL_OTEL_HOST: '0.0.0.0', VIGIL_OTEL_PORT: '14318' } });
    assert.deepEqual(c.otel, { host: '0.0.0.0', port: 14318, tenantAttribute: 'org.id', captureContent: true });
  });

  it('names the bad key', () => {
    const refused = (otel: object, text: RegExp): void =>
      assert.throws(() => parseConfig({ otel }, { env: {} }), (e: unknown) => isVigilError(e, 'VIGIL_CONFIG_INVALID') && text.test(e.message));
    refused({ port: 70000 }, /otel\.port: /);
    refused({ captureContent: 'yes' }, /otel\.captureContent: /);
    refused({ tenantAttribute: '' }, /otel\.tenantAttribute: /);
    refused({ grpcPort: 4317 }, /otel\.grpcPort: unknown key/);
  });

  it('is set in the example config', () => {
    const c = loadConfigFile(join(ROOT, 'config', 'vigil.example.yaml'), {});
    assert.equal(c.otel.port, 4318);
    assert.equal(c.otel.captureContent, false);
  });
});
