/**
 * The admission step every publish and play goes through, answered later (as an HTTP callback or
 * another worker answers): a refusal reaches each protocol's client in its own terms, a rename
 * publishes under the new name, and media sent meanwhile waits or is refused — over RTMP,
 * HTTP-FLV (with and without Expect: 100-continue) and WebSocket-FLV, with real FFmpeg and the pusher.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { EstuaryError } from '../../src/errors.js';
import { makeStreamName } from '../../src/hub/stream-name.js';
import { pushFile } from '../../src/pusher/pusher.js';
import { RtmpClient } from '../../src/rtmp/client.js';
import { status } from '../helpers/answer-status.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitEnded, waitLive } from '../helpers/origin.js';
import { run } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const FLV_3S = fixture('h264-aac-3s.flv');

describe('admission answered later', { timeout: 90_000 }, () => {
  let o: TestOrigin;
  const asked: string[] = [];
  before(async () => {
    o = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
    o.origin.admission.use(async (r) => {
      asked.push(`${r.action} ${r.protocol} ${r.name.path}`);
      await new Promise((res) => setTimeout(res, 100));
      if (r.name.stream === 'denied' || (r.action === 'play' && r.name.stream === 'secret')) {
        throw new EstuaryError('ERR_AUTH', `${r.action} of ${r.name.path} refused by the test's rule`);
      }
      if (r.action === 'publish' && r.name.stream === 'old')
        return makeStreamName(r.name.app, `new-${r.protocol}`);
      return undefined;
    });
  });
  after(() => o.stop());

  test('RTMP: a refused publish gets BadName with the reason; a renamed one publishes the new name', async () => {
    const c = await RtmpClient.connect(o.rtmpUrl('live/denied'));
    await assert.rejects(c.publish(), /NetStream\.Publish\.BadName.*refused by the test's rule/);
    c.close('done');
    const r = await RtmpClient.connect(o.rtmpUrl('live/old'));
    await r.publish();
    assert.ok(o.origin.hub.get('live/new-rtmp')?.isLive);
    assert.equal(o.origin.hub.get('live/old')?.isLive ?? false, false);
    r.close('done');
    await waitEnded(o.origin, 'live/new-rtmp');
  });

  test('RTMP: a refused play gets NetStream.Play.Failed', async () => {
    const c = await RtmpClient.connect(o.rtmpUrl('live/secret'));
    await assert.rejects(c.play(), /NetStream\.Play\.Failed/);
    c.close('done');
  });

  test('FFmpeg over RTMP and HTTP-FLV: the publish is renamed and every frame arrives', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    for (const [url, path] of [
      [o.rtmpUrl('live/old'), 'live/new-rtmp'],
      [`http://127.0.0.1:${o.ports.http}/live/old`, 'live/new-http-flv'],
    ] as const) {
      const r = await run(ffmpeg, publishArgs(FLV_3S, url));
      assert.equal(r.code, 0, r.stderr);
      await waitEnded(o.origin, path);
    }
    // FFmpeg may have its whole small file in the socket buffers before the refusal comes, so its
    // exit status says little; what counts is that the name never went live.
    await run(ffmpeg, publishArgs(FLV_3S, `http://127.0.0.1:${o.ports.http}/live/denied`));
    // FFmpeg may also exit before this process (the server) has read the request's head.
    await until('the admission asked', () => asked.includes('publish http-flv live/denied'), 10_000);
    assert.equal(o.origin.hub.get('live/denied')?.isLive ?? false, false);
  });

  test('the pusher (HTTP with Expect: 100-continue, WebSocket): refused at once, renamed when told', async () => {
    for (const scheme of ['http', 'ws']) {
      const err = await pushFile({
        file: FLV_3S,
        url: `${scheme}://127.0.0.1:${o.ports.http}/live/denied`,
        reconnect: false,
      }).catch((e: unknown) => e);
      assert.match(String(err), /refused by the test's rule/);
    }
    const pushed = pushFile({
      file: FLV_3S,
      url: `ws://127.0.0.1:${o.ports.http}/live/old`,
      speed: 4,
      reconnect: false,
    });
    await waitLive(o.origin, 'live/new-ws-flv');
    await pushed;
  });

  test('HTTP-FLV and WS-FLV play: a refused play is 403 with the reason', async () => {
    assert.equal(await status(o.flvUrl('live/secret')), 403);
    const ws = new WebSocket(o.wsUrl('live/secret'));
    ws.on('error', () => {}); // the refusal ends the handshake
    const code = await new Promise<number>((resolve) =>
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    assert.equal(code, 403);
    ws.terminate();
  });

  test('every protocol asked the admission', () => {
    for (const want of [
      'publish rtmp live/denied',
      'play rtmp live/secret',
      'publish http-flv live/old',
      'publish ws-flv live/old',
      'play http-flv live/secret',
      'play ws-flv live/secret',
    ]) {
      assert.ok(asked.includes(want), `${want} in ${asked.join(', ')}`);
    }
  });
});
