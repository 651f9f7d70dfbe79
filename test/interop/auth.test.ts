/** --auth-secret: FFmpeg can publish only with the query `estuary sign` prints. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { signCommand } from '../../src/cli/sign-command.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { run } from '../helpers/run.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { requireTool } from '../helpers/tools.js';

const FIXTURE = new URL('../fixtures/media/h264-aac-3s.flv', import.meta.url).pathname;

describe('signed publishing', { timeout: 60_000 }, () => {
  let o: TestOrigin;
  before(async () => {
    o = await startOrigin({ authSecret: 'test-secret', record: { flv: false, hls: false, mp4: false } });
  });
  after(async () => {
    await o?.stop();
  });

  // -re: a refused HTTP publisher only learns of it when its next write fails.
  const publish = (ffmpeg: string, url: string, realtime = false) =>
    run(
      ffmpeg,
      ['-v', 'error', ...(realtime ? ['-re'] : []), '-i', FIXTURE, '-c', 'copy', '-f', 'flv', url],
      30_000,
    );

  test('estuary sign prints a query the origin accepts, over RTMP and HTTP-FLV', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const signed = signCommand(['/live/cam', '--secret', 'test-secret', '--expires', '60']);
    assert.equal(signed.code, 0);
    assert.match(signed.out, /^\?sign=\d+-[0-9a-f]{64}$/);
    const viaRtmp = await publish(ffmpeg, `${o.rtmpUrl('live/cam')}${signed.out}`);
    assert.equal(viaRtmp.code, 0, viaRtmp.stderr);
    const viaHttp = await publish(ffmpeg, `http://127.0.0.1:${o.ports.http}/live/cam${signed.out}`);
    assert.equal(viaHttp.code, 0, viaHttp.stderr);
  });

  test('no signature, a wrong secret or another stream name is refused', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const other = signCommand(['/live/other', '--secret', 'test-secret']).out;
    const wrong = signCommand(['/live/cam', '--secret', 'not-the-secret']).out;
    for (const url of [
      o.rtmpUrl('live/cam'),
      `${o.rtmpUrl('live/cam')}${wrong}`,
      `${o.rtmpUrl('live/cam')}${other}`,
      `http://127.0.0.1:${o.ports.http}/live/cam`,
      `http://127.0.0.1:${o.ports.http}/live/cam${wrong}`,
    ]) {
      const r = await publish(ffmpeg, url, true);
      assert.notEqual(r.code, 0, `published without a valid signature: ${url}`);
    }
    // The signature that verifies, with its expiry spelt with a leading zero: refused.
    const [expires, hmac] = signCommand(['/live/cam', '--secret', 'test-secret']).out.slice(6).split('-');
    const padded = await fetch(`http://127.0.0.1:${o.ports.http}/live/cam?sign=0${expires}-${hmac}`, {
      method: 'POST',
      body: readFileSync(FIXTURE),
    });
    assert.equal(padded.status, 403);
    assert.match(await padded.text(), /ERR_AUTH: the signature for \/live\/cam is malformed/);
    const res = await fetch(`http://127.0.0.1:${o.ports.http}/live/cam`, {
      method: 'POST',
      body: Buffer.alloc(0),
    });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /ERR_AUTH_REQUIRED: publishing \/live\/cam needs a signed URL/);
  });
});

describe('signed publishing: the signature in the RTMP tcUrl or app', { timeout: 60_000 }, () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({
      authSecret: 'test-secret',
      record: { flv: false, hls: false, mp4: false },
    });
  });
  after(async () => {
    await server?.stop();
  });

  test('OBS-style: a sign= query in the tcUrl or after the app is accepted and never logged', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const base = `rtmp://127.0.0.1:${server.ports.rtmp}`;
    const signed = signCommand(['/live/cam', '--secret', 'test-secret', '--expires', '60']).out;
    const hexSig = signed.split('-')[1]!;
    // The server URL carries the query (tcUrl), the stream key does not.
    const viaTcUrl = await run(
      ffmpeg,
      [
        '-v',
        'error',
        '-i',
        FIXTURE,
        '-c',
        'copy',
        '-f',
        'flv',
        '-rtmp_tcurl',
        `${base}/live${signed}`,
        `${base}/live/cam`,
      ],
      30_000,
    );
    assert.equal(viaTcUrl.code, 0, viaTcUrl.stderr);
    const viaApp = await run(
      ffmpeg,
      [
        '-v',
        'error',
        '-i',
        FIXTURE,
        '-c',
        'copy',
        '-f',
        'flv',
        '-rtmp_app',
        `live${signed}`,
        '-rtmp_playpath',
        'cam',
        `${base}/live/cam`,
      ],
      30_000,
    );
    assert.equal(viaApp.code, 0, viaApp.stderr);
    const wrong = signCommand(['/live/cam', '--secret', 'not-the-secret']).out;
    const refused = await run(
      ffmpeg,
      [
        '-v',
        'error',
        '-i',
        FIXTURE,
        '-c',
        'copy',
        '-f',
        'flv',
        '-rtmp_tcurl',
        `${base}/live${wrong}`,
        `${base}/live/cam`,
      ],
      30_000,
    );
    assert.notEqual(refused.code, 0, 'published with a wrong signature in the tcUrl');
    const logs = server.logs();
    assert.ok(
      logs.some((l) => l.msg === 'connect'),
      'no connect logged',
    );
    const text = JSON.stringify(logs);
    assert.ok(!text.includes(hexSig), 'the signature was logged');
    assert.ok(!text.includes('sign='), 'a query was logged');
  });
});
