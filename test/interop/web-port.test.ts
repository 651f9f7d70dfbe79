/** The web port's answers to what browsers and odd clients send besides GET. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';

/** Sends raw bytes and returns everything the server answered before closing (or 2 s). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    s.on('error', () => {});
    s.on('close', () => resolve(got));
    setTimeout(() => {
      s.destroy();
    }, 2000);
  });
}

describe('web port', () => {
  let o: TestOrigin;
  before(async () => {
    o = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
  });
  after(() => o.stop());

  test('a CORS preflight gets 204 with the CORS headers', async () => {
    const res = await fetch(`http://127.0.0.1:${o.ports.web}/hls/live/s/index.m3u8`, { method: 'OPTIONS' });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  test('a request head over the limit gets 431, CONNECT gets 405', async () => {
    const big = await raw(o.ports.web, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431 /);
    const proxy = await raw(o.ports.web, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n');
    assert.match(proxy, /^HTTP\/1\.1 405 /);
  });

  test('another method on a known path is 405, an unknown path 404', async () => {
    const post = await fetch(`http://127.0.0.1:${o.ports.web}/api/streams`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.match(post.headers.get('allow') ?? '', /GET/);
    assert.equal((await fetch(`http://127.0.0.1:${o.ports.web}/nothing-here`)).status, 404);
  });
});
