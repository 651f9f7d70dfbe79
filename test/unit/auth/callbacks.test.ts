import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type CallbackBody, HttpCallbacks } from '../../../src/auth/callbacks.js';

const BODY: CallbackBody = {
  app: 'live',
  stream: 'cam',
  addr: '127.0.0.1',
  protocol: 'rtmp',
  args: { token: 't' },
  clientId: '7',
};

describe('HttpCallbacks against a real HTTP server', () => {
  let server: Server;
  let base: string;
  const got: { path: string; body: Record<string, unknown> }[] = [];
  let failNotify = 0;
  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let data = '';
      req.on('data', (d: Buffer) => {
        data += d.toString();
      });
      req.on('end', () => {
        got.push({ path: req.url ?? '', body: JSON.parse(data) as Record<string, unknown> });
        if (req.url === '/ok') res.writeHead(200).end('ok');
        else if (req.url === '/no') res.writeHead(403).end('no');
        else if (req.url === '/rename') res.writeHead(302, { Location: 'rtmp://x/live/renamed' }).end();
        else if (req.url === '/rename-stream') res.writeHead(301, { Location: 'other' }).end();
        else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end(), 2000);
        else if (req.url === '/flaky') {
          if (failNotify-- > 0) res.writeHead(500).end();
          else res.writeHead(200).end();
        } else res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const cb = (urls: Record<string, string>, timeoutMs = 500) =>
    new HttpCallbacks(urls, { timeoutMs, retries: 2 });

  test('on_publish: 2xx allows and gets the JSON body with the action', async () => {
    assert.deepEqual(await cb({ onPublish: `${base}/ok` }).publish(BODY), {});
    const last = got.at(-1)!;
    assert.equal(last.body.action, 'on_publish');
    assert.equal(last.body.stream, 'cam');
    assert.deepEqual(last.body.args, { token: 't' });
  });

  test('on_publish / on_play: a 4xx or a timeout refuses with ERR_AUTH', async () => {
    await assert.rejects(cb({ onPublish: `${base}/no` }).publish(BODY), {
      code: 'ERR_AUTH',
      message: /HTTP 403/,
    });
    await assert.rejects(cb({ onPlay: `${base}/no` }).play(BODY), { code: 'ERR_AUTH' });
    const t0 = Date.now();
    await assert.rejects(cb({ onPlay: `${base}/slow` }, 200).play(BODY), {
      code: 'ERR_AUTH',
      message: /no answer in 200 ms/,
    });
    assert.ok(Date.now() - t0 < 1500);
  });

  test('on_publish: a 3xx Location renames the stream (nginx-rtmp convention); rtmp:// relays are refused', async () => {
    await assert.rejects(cb({ onPublish: `${base}/rename` }).publish(BODY), /relaying/);
    assert.deepEqual(await cb({ onPublish: `${base}/rename-stream` }).publish(BODY), {
      rename: { app: 'live', stream: 'other' },
    });
  });

  test('no URL configured: everything is allowed and nothing is sent', async () => {
    const before = got.length;
    const c = cb({});
    assert.deepEqual(await c.publish(BODY), {});
    await c.play(BODY);
    c.notify('on_stop', BODY);
    await c.drain();
    assert.equal(got.length, before);
  });

  test('notifications are retried until delivered, and give up after the retries', async () => {
    failNotify = 2;
    const c = cb({ onUnpublish: `${base}/flaky`, onStop: `${base}/no` });
    const failures: string[] = [];
    const c2 = new HttpCallbacks({ onStop: `${base}/no` }, { timeoutMs: 500, retries: 1 }, (e, why) =>
      failures.push(`${e}: ${why}`),
    );
    const before = got.length;
    c.notify('on_unpublish', BODY);
    c2.notify('on_stop', BODY);
    await Promise.all([c.drain(), c2.drain()]);
    assert.equal(got.filter((g, i) => i >= before && g.path === '/flaky').length, 3);
    assert.deepEqual(failures, ['on_stop: HTTP 403 (after 2 attempts)']);
  });
});
