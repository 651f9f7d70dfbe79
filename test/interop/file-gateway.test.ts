/**
 * `estuary file-gateway` over real HTTP (issue 14): the origin's static behaviour (ranges,
 * conditional requests, content types, CORS, cache headers), directories, every traversal trick,
 * the limits (431, slowloris, the connection cap), the access log, and the shared in-memory copy.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { rawHttp, startFileGateway, type TestGateway } from '../helpers/file-gateway.js';
import { until } from '../helpers/wait.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** A segment name that carries its session id (cache-policy.ts): written once. */
const SEGMENT = 'segment_20240101_120000_00001.ts';

describe('file gateway', () => {
  let dir: string;
  let root: string;
  let g: TestGateway;
  const segment = Buffer.alloc(188 * 100);
  for (let i = 0; i < segment.length; i++) segment[i] = i % 251;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'estuary-files-'));
    root = join(dir, 'data');
    const hls = join(root, 'hls', 'live', 'a');
    mkdirSync(hls, { recursive: true });
    writeFileSync(join(hls, 'index.m3u8'), `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n${SEGMENT}\n`);
    writeFileSync(join(hls, SEGMENT), segment);
    writeFileSync(join(hls, '.recording'), '');
    mkdirSync(join(root, 'mp4', 'live', 'a', 'output_merge'), { recursive: true });
    writeFileSync(join(root, 'mp4', 'live', 'a', 'output_merge', 'stream_full.mp4'), Buffer.alloc(4096, 1));
    writeFileSync(join(root, 'mp4', 'live', 'a', 'seg_20240101_120000_000001.m4s'), Buffer.alloc(64, 2));
    mkdirSync(join(root, 'flv', 'live', 'a'), { recursive: true });
    writeFileSync(join(root, 'flv', 'live', 'a', '20240101_120000.flv'), Buffer.from('FLV\x01'));
    mkdirSync(join(root, 'hls', 'site'), { recursive: true });
    writeFileSync(join(root, 'hls', 'site', 'index.html'), '<p>site</p>');
    writeFileSync(join(dir, 'secret.txt'), 'root:x:0:0 outside the root');
    symlinkSync(dir, join(root, 'flv', 'out'));
    symlinkSync(join(dir, 'secret.txt'), join(root, 'flv', 'live', 'a', 'secret.flv'));
    g = await startFileGateway(root, { restatMs: 0 });
  });
  after(async () => {
    await g.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('content types, CORS, cache headers and HEAD at the origin’s paths', async () => {
    const cases: [string, string, string][] = [
      ['/hls/live/a/index.m3u8', 'application/vnd.apple.mpegurl', 'no-cache'],
      [`/hls/live/a/${SEGMENT}`, 'video/mp2t', IMMUTABLE],
      ['/mp4/live/a/seg_20240101_120000_000001.m4s', 'video/iso.segment', IMMUTABLE],
      ['/mp4/live/a/output_merge/stream_full.mp4', 'video/mp4', 'no-cache'],
      ['/flv/live/a/20240101_120000.flv', 'video/x-flv', IMMUTABLE],
      ['/play.html', 'text/html; charset=utf-8', 'no-cache'],
      ['/index.html', 'text/html; charset=utf-8', 'no-cache'],
    ];
    for (const [path, type, cache] of cases) {
      for (const method of ['GET', 'HEAD']) {
        const res = await fetch(`${g.base}${path}`, { method });
        const body = await res.arrayBuffer();
        assert.equal(res.status, 200, `${method} ${path}`);
        assert.equal(res.headers.get('content-type'), type, path);
        assert.equal(res.headers.get('cache-control'), cache, path);
        assert.equal(res.headers.get('access-control-allow-origin'), '*', path);
        assert.equal(res.headers.get('accept-ranges'), 'bytes', path);
        assert.ok(Number(res.headers.get('content-length')) > 0, path);
        assert.equal(body.byteLength, method === 'HEAD' ? 0 : Number(res.headers.get('content-length')));
      }
    }
    const pre = await fetch(`${g.base}/hls/live/a/index.m3u8`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://elsewhere', 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    const seg = await fetch(`${g.base}/hls/live/a/${SEGMENT}`);
    assert.deepEqual(Buffer.from(await seg.arrayBuffer()), segment);
  });

  test('single ranges give 206 with exactly those bytes; unsatisfiable ones 416', async () => {
    const url = `${g.base}/hls/live/a/${SEGMENT}`;
    const size = segment.length;
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=100-', 100, size - 1],
      ['bytes=-188', size - 188, size - 1],
      [`bytes=1000-${size + 5000}`, 1000, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await fetch(url, { headers: { Range: range } });
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(res.status, 206, range);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${size}`, range);
      assert.deepEqual(body, segment.subarray(start, end + 1), range);
    }
    // The big file, streamed from the disk rather than the in-memory copy, ranges alike.
    const mp4 = await fetch(`${g.base}/mp4/live/a/output_merge/stream_full.mp4`, {
      headers: { Range: 'bytes=4000-' },
    });
    assert.equal(mp4.status, 206);
    assert.equal((await mp4.arrayBuffer()).byteLength, 96);
    for (const range of [`bytes=${size}-`, 'bytes=50-10']) {
      const res = await fetch(url, { headers: { Range: range } });
      await res.arrayBuffer();
      assert.equal(res.status, 416, range);
      assert.equal(res.headers.get('content-range'), `bytes */${size}`);
    }
    const multi = await fetch(url, { headers: { Range: 'bytes=0-1,5-6' } });
    assert.equal(multi.status, 200, 'several ranges: the whole file (RFC 9110 14.2 allows it)');
    await multi.arrayBuffer();
  });

  test('conditional requests: ETag and Last-Modified give 304', async () => {
    const url = `${g.base}/hls/live/a/${SEGMENT}`;
    const first = await fetch(url);
    await first.arrayBuffer();
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
    const cases: [Record<string, string>, number][] = [
      [{ 'If-None-Match': etag }, 304],
      [{ 'If-None-Match': `W/${etag}` }, 304],
      [{ 'If-None-Match': '"other"' }, 200],
      [{ 'If-Modified-Since': lastModified }, 304],
      [{ 'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' }, 200],
    ];
    for (const [headers, status] of cases) {
      const res = await fetch(url, { headers });
      const body = await res.arrayBuffer();
      assert.equal(res.status, status, JSON.stringify(headers));
      if (status === 304) {
        assert.equal(body.byteLength, 0);
        assert.equal(res.headers.get('etag'), etag);
      }
    }
  });

  test('a file rewritten under the same name is served anew (the copy follows its identity)', async () => {
    const file = join(root, 'hls', 'live', 'a', 'index.m3u8');
    const url = `${g.base}/hls/live/a/index.m3u8`;
    const before = g.gateway.files!.hits;
    for (let i = 0; i < 3; i++) await (await fetch(url)).text();
    assert.ok(g.gateway.files!.hits >= before + 2, 'repeated requests come from memory');
    writeFileSync(file, '#EXTM3U\n#EXT-X-ENDLIST\n');
    const t = new Date(Date.now() + 5000);
    utimesSync(file, t, t);
    assert.equal(await (await fetch(url)).text(), '#EXTM3U\n#EXT-X-ENDLIST\n');
  });

  test('directories: index.html, else 403 (a listing only with --dir, 301 to the slash)', async () => {
    const index = await fetch(`${g.base}/hls/site/`);
    assert.equal(index.status, 200);
    assert.equal(await index.text(), '<p>site</p>');
    const slash = await fetch(`${g.base}/hls/site`, { redirect: 'manual' });
    assert.equal(slash.status, 301);
    assert.equal(slash.headers.get('location'), '/hls/site/');
    const none = await fetch(`${g.base}/hls/live/a/`);
    assert.equal(none.status, 403);
    assert.doesNotMatch(await none.text(), /index\.m3u8/);
    const listing = await startFileGateway(root, { dir: true, accessLog: 'off' });
    try {
      const res = await fetch(`${listing.base}/hls/live/a/`);
      const html = await res.text();
      assert.equal(res.status, 200);
      assert.match(html, /<a href="index\.m3u8">index\.m3u8<\/a>/);
      assert.match(html, new RegExp(`<a href="${SEGMENT}">`));
      assert.doesNotMatch(html, /\.recording/, 'markers stay hidden');
    } finally {
      await listing.stop();
    }
  });

  test('nothing outside the root is readable, whatever the path trick', async () => {
    const cases: [string, number[]][] = [
      ['/hls/../secret.txt', [404]],
      ['/hls/live/../../../secret.txt', [404]],
      ['/hls/%2e%2e/%2e%2e/secret.txt', [404]],
      ['/hls/%2E%2E/secret.txt', [404]],
      ['/hls/..%2f..%2fsecret.txt', [404]],
      ['/hls/..%2F..%2Fsecret.txt', [404]],
      ['/hls/..%5c..%5csecret.txt', [404]],
      ['/hls/..\\..\\secret.txt', [404]],
      ['/hls/live/a/index.m3u8%00.txt', [404]],
      ['/hls/%E0%A4%A', [404]],
      ['/hls/%2fetc%2fpasswd', [404]],
      ['//etc/passwd', [404]],
      ['/etc/passwd', [404]],
      [`/hls/${dir}/secret.txt`, [404]],
      ['/flv/out/secret.txt', [404]],
      ['/flv/live/a/secret.flv', [404]],
    ];
    for (const [path, statuses] of cases) {
      const res = await rawHttp(g.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.ok(statuses.includes(res.status), `${path}: ${res.status} ${res.body.slice(0, 80)}`);
      assert.doesNotMatch(res.body, /root:x|outside the root/, `${path} leaked`);
      assert.doesNotMatch(res.body, /\n\s+at /, `${path}: a stack trace`);
    }
    const nul = await rawHttp(g.port, Buffer.from('GET /hls/a\0b.ts HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'));
    assert.equal(nul.status, 400, 'a raw NUL in the request line');
    const absolute = await rawHttp(
      g.port,
      'GET http://x/../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    assert.ok([400, 404].includes(absolute.status), `absolute-form: ${absolute.status}`);
    assert.doesNotMatch(absolute.body, /outside the root/);
    const post = await fetch(`${g.base}/hls/live/a/index.m3u8`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.match(post.headers.get('allow') ?? '', /GET/);
    await post.arrayBuffer();
    const garbage = await rawHttp(g.port, 'NOT HTTP AT ALL\r\n\r\n');
    assert.equal(garbage.status, 400);
  });

  test('a request head over the limit gets 431', async () => {
    const big = `GET /hls/live/a/index.m3u8 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
    const res = await rawHttp(g.port, big);
    assert.equal(res.status, 431);
  });

  test('the access log has one combined-format line per request', async () => {
    const ua = `estuary-test-${Date.now()}`;
    await (
      await fetch(`${g.base}/hls/live/a/${SEGMENT}?sign=secret`, { headers: { 'User-Agent': ua } })
    ).text();
    await (
      await fetch(`${g.base}/hls/live/a/nope.ts`, { headers: { 'User-Agent': ua, Referer: 'http://r/' } })
    ).text();
    await (
      await fetch(`${g.base}/hls/live/a/${SEGMENT}`, { method: 'HEAD', headers: { 'User-Agent': ua } })
    ).text();
    const combined =
      /^(\S+) - - \[(\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000)\] "([^"]*)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"$/;
    let mine: RegExpExecArray[] = [];
    await until('three access lines', () => {
      mine = g
        .accessLines()
        .map((l) => combined.exec(l))
        .filter((m): m is RegExpExecArray => m !== null && m[7] === ua);
      return mine.length === 3;
    });
    const [get, missing, head] = mine as [RegExpExecArray, RegExpExecArray, RegExpExecArray];
    assert.equal(get[1], '127.0.0.1');
    assert.equal(get[3], `GET /hls/live/a/${SEGMENT}?sign=*** HTTP/1.1`, 'query values masked');
    assert.equal(get[4], '200');
    assert.equal(get[5], String(segment.length));
    assert.equal(missing[4], '404');
    assert.equal(missing[6], 'http://r/');
    assert.equal(head[4], '200');
    assert.equal(head[5], '-', 'HEAD sends no body');
    for (const line of g.accessLines()) assert.match(line, combined, line);
  });
});

describe('file gateway limits', () => {
  let dir: string;
  let g: TestGateway;
  const sockets: Socket[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'estuary-files-'));
    mkdirSync(join(dir, 'data', 'hls'), { recursive: true });
    writeFileSync(join(dir, 'data', 'hls', 'a.m3u8'), '#EXTM3U\n');
    g = await startFileGateway(join(dir, 'data'), { maxConnections: 3, headersTimeoutMs: 1000 });
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await g.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = () =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect(g.port, '127.0.0.1', () => resolve(s));
      s.on('error', reject);
      sockets.push(s);
    });
  const closed = (s: Socket, ms: number) =>
    new Promise<number>((resolve, reject) => {
      const t0 = Date.now();
      const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
      s.on('error', () => {});
      s.resume(); // a paused socket never sees the server's FIN
      s.on('close', () => {
        clearTimeout(timer);
        resolve(Date.now() - t0);
      });
    });

  test('a slowloris head is cut at the header timeout', async () => {
    const s = await open();
    s.write('GET /hls/a.m3u8 HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => s.writable && s.write('X-Drip: 1\r\n'), 200);
    try {
      const took = await closed(s, 5000);
      assert.ok(took < 4000, `closed after ${took} ms`);
    } finally {
      clearInterval(drip);
    }
  });

  test('an idle kept-alive connection is closed after the keep-alive timeout', async () => {
    const idle = await startFileGateway(join(dir, 'data'), { keepAliveTimeoutMs: 1000, accessLog: 'off' });
    try {
      const s = await new Promise<Socket>((resolve, reject) => {
        const c = connect(idle.port, '127.0.0.1', () => resolve(c));
        c.on('error', reject);
        sockets.push(c);
      });
      let answer = '';
      s.on('data', (d: Buffer) => {
        answer += d.toString();
      });
      s.write('GET /hls/a.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n');
      const took = await closed(s, 8000);
      assert.match(answer, /^HTTP\/1\.1 200 /, 'answered first');
      assert.ok(took >= 900, `closed after ${took} ms, before the timeout`);
    } finally {
      await idle.stop();
    }
  });

  test('connections past the cap are refused, with a log line and a counter', async () => {
    const held = [await open(), await open(), await open()];
    for (const s of held) s.write('GET /hls/a.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n');
    await until('three connections held', async () => {
      const n = await new Promise<number>((r) => g.gateway.server.getConnections((_e, c) => r(c)));
      return n === 3;
    });
    const extra = await open();
    await closed(extra, 3000);
    assert.ok(g.gateway.dropped >= 1, 'counted');
    assert.ok(
      g
        .logs()
        .some((l) =>
          /^limit reached: 3 connections open on the port: new connections refused$/.test(String(l.msg)),
        ),
      'logged',
    );
    for (const s of held) s.destroy();
    await until('the slots free again', async () => {
      const n = await new Promise<number>((r) => g.gateway.server.getConnections((_e, c) => r(c)));
      return n === 0;
    });
    const metrics = await (await fetch(`${g.base}/metrics`)).text();
    assert.match(metrics, /^estuary_files_connections_refused_total [1-9]\d*$/m);
  });
});
