import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/vigil-config.js';
import { isVigilError } from '../../src/errors.js';

describe('config: registry', () => {
  it('is off unless configured', () => {
    assert.equal(parseConfig({}, { env: {} }).registry, undefined);
  });

  it('takes a URL and a cache size (default 1000), or the URL from VIGIL_REGISTRY_URL', () => {
    assert.deepEqual(parseConfig({ registry: { url: 'http://registry:8081' } }, { env: {} }).registry, { url: 'http://registry:8081', cacheSize: 1000 });
    assert.deepEqual(parseConfig({ registry: { url: 'http://a:1', cacheSize: 50 } }, { env: { VIGIL_REGISTRY_URL: 'https://b/apis/ccompat/v7' } }).registry, {
      url: 'https://b/apis/ccompat/v7',
      cacheSize: 50,
    });
    assert.equal(parseConfig({}, { env: { VIGIL_REGISTRY_URL: 'http://r:8081' } }).registry?.url, 'http://r:8081');
  });

  it('names the key of a bad URL or cache size', () => {
    assert.throws(() => parseConfig({ registry: { url: 'ftp://r' } }, { env: {} }), (e) => isVigilError(e, 'VIGIL_CONFIG_INVALID') && /registry\.url: must be an http\(s\) URL/.test(e.message));
    assert.throws(() => parseConfig({ registry: { url: 'http://r', cacheSize: 0 } }, { env: {} }), (e) => isVigilError(e, 'VIGIL_CONFIG_INVALID') && /registry\.cacheSize/.test(e.message));
    assert.throws(() => parseConfig({ registry: { url: 'http://r', extra: 1 } }, { env: {} }), (e) => isVigilError(e, 'VIGIL_CONFIG_INVALID') && /registry\.extra: unknown key/.test(e.message));
  });
});
