import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { VigilError } from '../../src/errors.js';
import { postJson } from '../../src/forwarders/http-post.js';
import { startHttpTarget, type HttpTarget } from '../helpers/http-target.js';

function isCode(code: string, status?: number) {
  return (e: unknown): boolean => e instanceof VigilError && e.code === code && e.details.status === status && e.details.target === 'webhooks[0]';
}

describe('postJson', () => {
  let server: HttpTarget;
  let status = 200;
  before(async () => (server = await startHttpTarget(() => status)));
  after(() => server.close());
  const post = (url = server.url + '/hook'): Promise<number> => postJson(url, { text: 'hi' }, { timeoutMs: 2000, target: 'webhooks[0]', headers: { authorization: 'Bearer t' } });

  it('sends the body as JSON with the extra headers and resolves on 2xx', async () => {
    status = 202;
    assert.equal(await post(), 202);
    const last = server.requests.at(-1);
    assert.deepEqual(last?.body, { text: 'hi' });
    assert.equal(last?.headers.authorization, 'Bearer t');
  });

  it('calls 5xx, 408 and 429 retriable', async () => {
    for (const s of [500, 503, 408, 429]) {
      status = s;
      await assert.rejects(post(), isCode('VIGIL_FORWARD_FAILED', s));
    }
  });

  it('calls any other 4xx a refusal that is not retried', async () => {
    for (const s of [400, 404, 422]) {
      status = s;
      await assert.rejects(post(), isCode('VIGIL_FORWARD_REJECTED', s));
    }
  });

  it('calls a refused connection retriable and names the target, not the URL', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await assert.rejects(post(`http://127.0.0.1:${port}/secret-path`), (e: unknown) => {
      assert.ok(isCode('VIGIL_FORWARD_FAILED')(e));
      assert.ok(!(e as Error).message.includes('secret-path'));
      return true;
    });
  });

  it('calls a timeout retriable', async () => {
    const sockets: Socket[] = [];
    const slow = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const port = (slow.address() as AddressInfo).port;
    try {
      await assert.rejects(postJson(`http://127.0.0.1:${port}/`, {}, { timeoutMs: 100, target: 'webhooks[0]' }), (e: unknown) => {
        assert.ok(isCode('VIGIL_FORWARD_FAILED')(e));
        assert.match((e as Error).message, /no answer within 100 ms/);
        return true;
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((r) => slow.close(() => r()));
    }
  });
});
