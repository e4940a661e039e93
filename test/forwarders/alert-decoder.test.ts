import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AlertCodec } from '../../src/codec/avro-codec.js';
import { encodeWireFormat } from '../../src/codec/registry/wire-format.js';
import { readSchemaJson } from '../../src/codec/schemas.js';
import { VigilError } from '../../src/errors.js';
import { alertDecoder } from '../../src/forwarders/alert-decoder.js';
import { sampleAlert } from '../codec/span-fixtures.js';

const invalid = (e: unknown): boolean => e instanceof VigilError && e.code === 'VIGIL_RECORD_INVALID';

describe('alertDecoder', () => {
  const codec = new AlertCodec();

  it('decodes plain Avro alerts without a registry', async () => {
    assert.deepEqual(await alertDecoder()(codec.encode(sampleAlert())), sampleAlert());
  });

  it('calls bytes that are not an alert invalid', async () => {
    await assert.rejects(alertDecoder()(Buffer.from('not an alert')), invalid);
  });

  describe('with a schema registry', () => {
    // Answers GET /schemas/ids/7 with the shipped AlertEvent schema; every other id is unknown.
    let registry: Server;
    let url = '';
    before(async () => {
      const schema = JSON.stringify(readSchemaJson('AlertEvent'));
      registry = createServer((req, res) => {
        const known = req.url === '/schemas/ids/7';
        res.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
        res.end(JSON.stringify(known ? { schema } : { error_code: 40403, message: 'Schema not found' }));
      });
      await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;
    });
    after(async () => {
      registry.closeAllConnections();
      await new Promise<void>((r) => registry.close(() => r()));
    });

    it('reads the wire format by writer schema id, and plain Avro alike', async () => {
      const decode = alertDecoder({ url });
      const body = codec.encode(sampleAlert());
      assert.deepEqual(await decode(encodeWireFormat(7, body)), sampleAlert());
      assert.deepEqual(await decode(body), sampleAlert());
    });

    it('calls an alert of a schema id the registry does not know invalid', async () => {
      await assert.rejects(alertDecoder({ url })(encodeWireFormat(8, codec.encode(sampleAlert()))), invalid);
    });
  });
});
