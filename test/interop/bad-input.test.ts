/**
 * Bad input costs one connection, never the process: while a real FFmpeg publish and a viewer
 * run, each malformed connection is closed, and the stream and its viewer carry on.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeAmf0 } from '../../src/formats/amf/amf0.js';
import { encodeFlvHeader } from '../../src/formats/flv/header.js';
import { encodeFlvTag } from '../../src/formats/flv/tag.js';
import { RtmpClientHandshake } from '../../src/formats/rtmp/handshake.js';
import { RtmpClient } from '../../src/rtmp/client.js';
import { httpGetStream } from '../helpers/flv-capture.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitEnded, waitLive } from '../helpers/origin.js';
import { type Running, run, start } from '../helpers/run.js';
import { requireTool, tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const FIXTURE_10S = new URL('../fixtures/media/h264-aac-bframes-10s.flv', import.meta.url).pathname;

/** Opens a TCP connection, optionally completes the RTMP handshake, sends `payload`, and resolves when the server closes it. */
async function sendRaw(
  port: number,
  payload: Buffer,
  handshake: boolean,
  timeoutMs = 3000,
): Promise<'closed' | 'open'> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const closed = new Promise<'closed'>((r) => socket.once('close', () => r('closed')));
  socket.on('error', () => {});
  if (handshake) {
    const hs = new RtmpClientHandshake();
    socket.write(hs.start());
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        const step = hs.feed(chunk);
        if (step.send) socket.write(step.send);
        if (step.done) {
          socket.off('data', onData);
          resolve();
        }
      };
      socket.on('data', onData);
    });
  }
  socket.write(payload);
  const timer = new Promise<'open'>((r) => setTimeout(() => r('open'), timeoutMs));
  const result = await Promise.race([closed, timer]);
  socket.destroy();
  return result;
}

/** A chunk with a type-0 header on chunk stream 3 (RTMP 5.3.1.2.1). */
function chunk0(type: number, length: number, payload: Buffer, csid = 3): Buffer {
  const h = Buffer.alloc(12);
  h[0] = csid;
  h.writeUIntBE(0, 1, 3);
  h.writeUIntBE(length, 4, 3);
  h[7] = type;
  h.writeUInt32LE(0, 8);
  return Buffer.concat([h, payload]);
}

function post(port: number, path: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { 'Content-Length': body.length } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('bad input is contained', { timeout: 90_000 }, () => {
  let o: TestOrigin;
  let publisher: Running | undefined;
  let viewerBytes = 0;
  let viewer: Awaited<ReturnType<typeof httpGetStream>> | undefined;
  const path = 'live/good';

  before(async () => {
    o = await startOrigin({ idleTimeoutMs: 1000 });
    if (!tools.ffmpeg) return;
    publisher = start(tools.ffmpeg, publishArgs(FIXTURE_10S, o.rtmpUrl(path), true));
    await waitLive(o.origin, path);
    viewer = await httpGetStream(o.flvUrl(path));
    viewer.onData((c) => {
      viewerBytes += c.length;
    });
  });

  after(async () => {
    viewer?.destroy();
    publisher?.child.kill('SIGKILL');
    await publisher?.done;
    await o?.stop();
  });

  const rtmpCases: [string, Buffer, boolean][] = [
    ['an HTTP request instead of a handshake', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), false],
    ['RTMPE (version 6) handshake', Buffer.concat([Buffer.from([6]), Buffer.alloc(1536)]), false],
    ['chunk size 0', chunk0(1, 4, Buffer.from([0, 0, 0, 0]), 2), true],
    ['chunk size >= 2^31', chunk0(1, 4, Buffer.from([0x80, 0, 0, 0]), 2), true],
    ['an unknown message type', chunk0(0x42, 4, Buffer.from([1, 2, 3, 4])), true],
    ['a huge declared message length (16 MiB - 1)', chunk0(9, 0xffffff, Buffer.alloc(64)), true],
    [
      'a type-1 chunk on a chunk stream never started',
      Buffer.from([0x40 | 9, 0, 0, 0, 0, 0, 4, 9, 1, 2, 3, 4]),
      true,
    ],
    ['a malformed AMF command', chunk0(20, 6, Buffer.from([0x02, 0x00, 0x09, 0x61, 0x62, 0x63])), true],
  ];
  for (const [label, payload, handshake] of rtmpCases) {
    test(`RTMP: ${label} closes that connection`, async (t) => {
      if (!requireTool(t, 'ffmpeg')) return;
      assert.equal(await sendRaw(o.ports.rtmp, payload, handshake), 'closed');
    });
  }

  test('RTMP: a connection that neither publishes nor plays is closed after the idle timeout', async (t) => {
    if (!requireTool(t, 'ffmpeg')) return;
    const c = await RtmpClient.connect(o.rtmpUrl('live/idle'));
    const closed = new Promise<string>((r) => c.once('close', r));
    const t0 = Date.now();
    assert.match(await closed, /connection closed/);
    assert.ok(Date.now() - t0 >= 900, 'closed before the idle timeout');
  });

  test('RTMP: a bad stream name is refused with NetStream.Publish.BadName', async (t) => {
    if (!requireTool(t, 'ffmpeg')) return;
    const c = await RtmpClient.connect(`rtmp://127.0.0.1:${o.ports.rtmp}/live/bad.name`);
    await assert.rejects(c.publish(), /NetStream\.Publish\.BadName.*ERR_STREAM_NAME/);
    c.close('test done');
  });

  test('RTMP: a second publisher of a live name is refused with NetStream.Publish.BadName', async (t) => {
    if (!requireTool(t, 'ffmpeg')) return;
    const c = await RtmpClient.connect(o.rtmpUrl(path));
    await assert.rejects(c.publish(), /NetStream\.Publish\.BadName.*ERR_STREAM_BUSY/);
    c.close('test done');
  });

  /** A chunk of a chunked request body (RFC 9112 7.1). */
  const chunked = (b: Buffer) =>
    Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
  const FLV_HEAD = encodeFlvHeader({ audio: true, video: true });

  /** Opens a chunked POST to `stream` and writes `first`; resolves the reply once the server closes. */
  async function chunkedPost(stream: string, first: Buffer) {
    const socket = connect({ host: '127.0.0.1', port: o.ports.http });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.on('error', () => {});
    socket.write(`POST /live/${stream} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
    socket.write(chunked(first));
    let reply = '';
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
    });
    const closed = new Promise<string>((r) => socket.once('close', () => r(reply)));
    return { socket, closed };
  }

  test('HTTP-FLV: a publisher that goes silent is dropped after the idle timeout', async (t) => {
    if (!requireTool(t, 'ffmpeg')) return;
    const meta = encodeFlvTag(18, 0, encodeAmf0('onMetaData', { duration: 0 }));
    const { closed } = await chunkedPost('silent', Buffer.concat([FLV_HEAD, meta]));
    await until('the publish to start', () => o.origin.hub.get('live/silent')?.isLive === true, 3000);
    const reply = await closed;
    assert.match(reply, /^HTTP\/1\.1 408/);
    assert.equal(o.origin.hub.get('live/silent')?.isLive ?? false, false, 'the name was not freed');
  });

  test('HTTP-FLV: a POST that sends only the FLV header, or trickles its first tag, publishes nothing: 408', async (t) => {
    if (!requireTool(t, 'ffmpeg')) return;
    const headerOnly = await chunkedPost('header-only', FLV_HEAD);
    // A video tag header announcing 1,000 bytes, then one byte every 200 ms.
    const trickle = await chunkedPost(
      'trickle',
      Buffer.concat([FLV_HEAD, Buffer.from('090003e8000000000000000', 'hex')]),
    );
    const timer = setInterval(() => trickle.socket.write(chunked(Buffer.from([0x17]))), 200);
    let everLive = false;
    const watch = setInterval(() => {
      everLive ||=
        o.origin.hub.get('live/header-only')?.isLive === true ||
        o.origin.hub.get('live/trickle')?.isLive === true;
    }, 20);
    const t0 = Date.now();
    try {
      const replies = await Promise.all([headerOnly.closed, trickle.closed]);
      for (const reply of replies)
        assert.match(reply, /^HTTP\/1\.1 408 (.*\r\n)*\r\nno FLV header and first tag within 1000 ms/);
    } finally {
      clearInterval(timer);
      clearInterval(watch);
    }
    assert.ok(Date.now() - t0 >= 900, 'dropped before the idle timeout');
    assert.equal(everLive, false, 'a POST without a first tag counted as a publish');
  });

  test('HTTP-FLV: an empty POST or PUT gets 400 and hides no recording', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const loop = 'live/loop';
    const published = await run(
      ffmpeg,
      publishArgs(fixture('h264-aac-3s.flv'), `http://127.0.0.1:${o.ports.http}/${loop}`),
      30_000,
    );
    assert.equal(published.code, 0, published.stderr);
    // FFmpeg exits once its bytes are sent, which may be before the server read the first tag:
    // wait for the session's complete MP4 (its end), not only for "not live".
    await until('the session to be recorded and finished', () =>
      existsSync(join(o.dataDir, 'mp4/live/loop/output_merge/loop_full.mp4')),
    );
    await waitEnded(o.origin, loop);
    const files = () =>
      ['flv/live', 'hls/live', 'mp4/live']
        .flatMap((d) =>
          readdirSync(join(o.dataDir, d), { recursive: true }).map((f) => {
            const p = join(o.dataDir, d, String(f));
            return `${d}/${String(f)}:${statSync(p).isFile() ? statSync(p).size : 'dir'}`;
          }),
        )
        .filter((f) => f.includes('loop'))
        .sort();
    const before = files();
    assert.ok(
      before.some((f) => f.startsWith('hls/live/loop/index.m3u8')),
      before.join('\n'),
    );
    assert.ok(
      before.some((f) => /^mp4\/live\/loop\/output_merge\/\w+_full\.mp4:[1-9]/.test(f)),
      before.join('\n'),
    );
    for (const request of [
      `POST /${loop} HTTP/1.1\r\nHost: x\r\n\r\n`, // curl -X POST
      `PUT /${loop} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
      `POST /${loop} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ]) {
      const socket = connect({ host: '127.0.0.1', port: o.ports.http });
      socket.on('error', () => {});
      let reply = '';
      socket.on('data', (d: Buffer) => {
        reply += d.toString();
      });
      socket.write(request);
      await new Promise<void>((r) => socket.once('close', () => r()));
      assert.match(
        reply,
        /^HTTP\/1\.1 400 (.*\r\n)*\r\nERR_FLV_FORMAT: the request body ended after 0 bytes/,
        request,
      );
    }
    await o.origin.recordings.drain();
    assert.deepEqual(files(), before, 'the recordings changed');
    assert.equal(o.origin.hub.get(loop), undefined, 'an entry was created for the empty publish');
  });

  test('HTTP-FLV: a non-FLV POST body is refused with 400', async (t) => {
    if (!requireTool(t, 'ffmpeg')) return;
    const r = await post(o.ports.http, '/live/garbage', Buffer.from('this is not an FLV file at all'));
    assert.equal(r.status, 400);
    assert.match(r.text, /ERR_FLV_FORMAT/);
    assert.equal(o.origin.hub.get('live/garbage')?.isLive ?? false, false);
  });

  test('HTTP-FLV: a second publisher gets 409, a bad name 400, a traversal attempt 400', async (t) => {
    if (!requireTool(t, 'ffmpeg')) return;
    const busy = await post(o.ports.http, `/${path}`, Buffer.from('FLV\x01\x05\0\0\0\x09\0\0\0\0', 'latin1'));
    assert.equal(busy.status, 409);
    assert.match(busy.text, /ERR_STREAM_BUSY/);
    assert.equal((await post(o.ports.http, '/live/a.b', Buffer.alloc(0))).status, 400);
    assert.equal((await post(o.ports.http, '/../../etc/passwd', Buffer.alloc(0))).status, 400);
    const res = await httpGetStream(`http://127.0.0.1:${o.ports.http}/live/nothere.flv`);
    assert.equal(res.status, 404);
    res.destroy();
  });

  test('HTTP-FLV: 50 play requests pipelined in one write are one viewer at most', async (t) => {
    if (!requireTool(t, 'ffmpeg')) return;
    const socket = connect({ host: '127.0.0.1', port: o.ports.http });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.on('error', () => {});
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    const before = viewerBytes;
    socket.write(`GET /${path}.flv HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(50));
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1500))]);
    socket.destroy();
    const got = Buffer.concat(chunks);
    const count = (needle: string) => got.toString('latin1').split(needle).length - 1;
    assert.ok(count('HTTP/1.1 ') <= 1, `${count('HTTP/1.1 ')} response heads on one connection`);
    assert.ok(count('FLV\x01') <= 1, `${count('FLV\x01')} FLV headers on one connection`);
    // No more than one viewer's worth (the good viewer's bytes over the same time, plus its GOP).
    assert.ok(got.length <= viewerBytes - before + 2 * 1024 * 1024, `${got.length} bytes on one connection`);
  });

  /** [label, request, reply, whether the server closes the connection after it] */
  const httpCases: [string, string, RegExp, boolean][] = [
    [
      'a request head over 16 KiB gets 431',
      `GET /${path}.flv HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
      /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/,
      true,
    ],
    [
      'CONNECT gets 405',
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      /^HTTP\/1\.1 405 Method Not Allowed\r\n(.*\r\n)*Allow: GET, HEAD, POST, PUT, OPTIONS\r\n/,
      true,
    ],
    [
      'DELETE gets 405 (a well-formed request: the connection may be kept)',
      `DELETE /${path} HTTP/1.1\r\nHost: x\r\n\r\n`,
      /^HTTP\/1\.1 405 (.*\r\n)*Allow: GET, HEAD, POST, PUT, OPTIONS\r\n/,
      false,
    ],
    ['a request that is not HTTP gets 400', 'HELLO THERE\r\n\r\n', /^HTTP\/1\.1 400 Bad Request\r\n/, true],
  ];
  for (const [label, request, reply, closes] of httpCases) {
    test(`HTTP: ${label}`, async (t) => {
      if (!requireTool(t, 'ffmpeg')) return;
      const socket = connect({ host: '127.0.0.1', port: o.ports.http });
      await new Promise<void>((r) => socket.once('connect', () => r()));
      socket.on('error', () => {});
      let got = '';
      socket.on('data', (d: Buffer) => {
        got += d.toString('latin1');
      });
      const closed = new Promise<'closed'>((r) => socket.once('close', () => r('closed')));
      socket.write(request);
      const result = await Promise.race([
        closed,
        new Promise<'open'>((r) => setTimeout(() => r('open'), closes ? 3000 : 300)),
      ]);
      socket.destroy();
      assert.match(got, reply);
      if (closes) assert.equal(result, 'closed');
    });
  }

  test('after all that, the good stream and its viewer are still going', async (t) => {
    if (!requireTool(t, 'ffmpeg')) return;
    const s = o.origin.hub.get(path);
    assert.ok(s?.isLive, 'the good publish was lost');
    const frames = s.framesIn;
    const bytes = viewerBytes;
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(s.framesIn > frames, 'the good publish stopped sending');
    assert.ok(viewerBytes > bytes, 'the viewer stopped receiving');
  });
});
