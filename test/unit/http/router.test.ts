import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { sendJson, sendRouterJsonError } from '../../../src/http/respond.js';
import { Router } from '../../../src/http/router.js';
import { silentLogger } from '../../../src/log.js';

function call(port: number, method: string, path: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('Router', () => {
  let server: Server;
  let port: number;
  before(async () => {
    const api = new Router()
      .get('/streams', (_q, res) => sendJson(res, 200, { all: true }))
      .get('/streams/:app/:stream', (_q, res, p) => sendJson(res, 200, p))
      .delete('/streams/:app/:stream', (_q, res, p) =>
        sendJson(res, 202, { deleted: `${p.app}/${p.stream}` }),
      );
    const router = new Router()
      .mount('/api', new Router().errorsAs('/', sendRouterJsonError).mount('/', api))
      .get('/files/*', (_q, res, p) => sendJson(res, 200, { rest: p['*'] }))
      .get('/boom', () => {
        throw new Error('secret internals');
      })
      .get('/later', async () => {
        await Promise.resolve();
        throw new Error('async internals');
      })
      .get('/api/fails', () => {
        throw new Error('secret internals');
      });
    server = createServer((req, res) => router.handle(req, res, silentLogger()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  const cases: [string, string, number, unknown][] = [
    ['GET', '/api/streams', 200, { all: true }],
    ['GET', '/api/streams/live/a%20b', 200, { app: 'live', stream: 'a b' }],
    ['DELETE', '/api/streams/live/x', 202, { deleted: 'live/x' }],
    ['GET', '/files/a/b/c.ts?x=1', 200, { rest: 'a/b/c.ts' }],
    ['GET', '/files', 200, { rest: '' }],
  ];
  for (const [method, path, status, body] of cases) {
    test(`${method} ${path} → ${status}`, async () => {
      const r = await call(port, method, path);
      assert.equal(r.status, status);
      assert.deepEqual(JSON.parse(r.body), body);
    });
  }

  test('HEAD is answered wherever GET is, without a body', async () => {
    const r = await call(port, 'HEAD', '/api/streams');
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
  });

  test('OPTIONS (a CORS preflight) gets 204 with the CORS headers on any path', async () => {
    for (const path of ['/api/streams', '/nowhere']) {
      const r = await call(port, 'OPTIONS', path);
      assert.equal(r.status, 204);
      assert.equal(r.headers['access-control-allow-origin'], '*');
    }
  });

  test('a known path with another method is 405 with Allow; an unknown path is 404', async () => {
    const r = await call(port, 'POST', '/api/streams');
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'GET, HEAD, OPTIONS');
    assert.equal((await call(port, 'GET', '/api/nothing')).status, 404);
    assert.equal((await call(port, 'GET', '/api/streams/live')).status, 404);
  });

  test('a handler that throws or rejects costs a 500 without its stack or message', async () => {
    for (const path of ['/boom', '/later']) {
      const r = await call(port, 'GET', path);
      assert.equal(r.status, 500);
      assert.doesNotMatch(r.body, /internals|at /);
    }
  });

  test('under a prefix with errorsAs, the router answers 404, 405 and 500 in that style (JSON here)', async () => {
    const cases: [string, string, number, string][] = [
      ['GET', '/api/nothing', 404, 'ERR_NOT_FOUND'],
      ['POST', '/api/streams', 405, 'ERR_METHOD_NOT_ALLOWED'],
      ['GET', '/api/fails', 500, 'ERR_INTERNAL'],
    ];
    for (const [method, path, status, code] of cases) {
      const r = await call(port, method, path);
      assert.equal(r.status, status, path);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      const body = JSON.parse(r.body) as { error: { code: string; message: string } };
      assert.equal(body.error.code, code);
      assert.doesNotMatch(body.error.message, /internals/);
    }
    const plain = await call(port, 'GET', '/nowhere');
    assert.equal(plain.status, 404);
    assert.match(String(plain.headers['content-type']), /^text\/plain/);
  });
});
