import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pageRoutes } from '../../../src/http/pages.js';
import { silentLogger } from '../../../src/log.js';

describe('pageRoutes', () => {
  let server: Server;
  let base: string;
  before(async () => {
    const router = pageRoutes();
    server = createServer((req, res) => router.handle(req, res, silentLogger()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const pages: [string, RegExp][] = [
    ['/', /<title>Estuary<\/title>/],
    ['/index.html', /mpegts\.js/],
    ['/play.html', /play\.js/],
    ['/mp4.html', /mp4\.js/],
    ['/video.html', /video\.js/],
    ['/play_merge.html', /play_merge\.js/],
  ];
  for (const [path, body] of pages) {
    test(`${path} is a page, revalidated on every load`, async () => {
      const res = await fetch(base + path);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.match(await res.text(), body);
    });
  }

  test('the player libraries come from the installed npm packages, as JavaScript', async () => {
    const mpegts = await fetch(`${base}/vendor/mpegts.js`);
    assert.equal(mpegts.status, 200);
    assert.match(mpegts.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(await mpegts.text(), /mpegts/);
    const hls = await fetch(`${base}/vendor/hls.mjs`);
    assert.equal(hls.status, 200);
    // A module script is refused by browsers unless it is served as JavaScript.
    assert.match(hls.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(await hls.text(), /export\s*\{/);
  });

  test('the pages load nothing from another host', async () => {
    for (const name of ['/', '/index.html', '/play.html', '/mp4.html', '/video.html', '/play_merge.html']) {
      const html = await (await fetch(base + name)).text();
      assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, name);
    }
  });

  test('anything else is a 404', async () => {
    assert.equal((await fetch(`${base}/nope.html`)).status, 404);
    assert.equal((await fetch(`${base}/vendor/other.js`)).status, 404);
    assert.equal((await fetch(`${base}/vendor/../package.json`)).status, 404);
  });
});
