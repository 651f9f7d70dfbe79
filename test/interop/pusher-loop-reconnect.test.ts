/**
 * The pusher's timing across `--loop` boundaries and server restarts, observed with our own
 * HTTP-FLV (FlvTagReader) and RTMP readers on an in-process origin.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FlvTag } from '../../src/formats/flv/tag.js';
import { FlvTagReader } from '../../src/formats/flv/tag-reader.js';
import { pushFile } from '../../src/pusher/pusher.js';
import { RtmpClient } from '../../src/rtmp/client.js';
import { httpGetStream } from '../helpers/flv-capture.js';
import { fixture as media } from '../helpers/media.js';
import { startOrigin, waitLive } from '../helpers/origin.js';

const FLV_3S = media('h264-aac-3s.flv');
const FLV_10S = media('h264-aac-bframes-10s.flv');
const MP4_10S = media('h264-aac-bframes-10s.mp4');

/** AVC/AAC sequence headers have packet type 0 in the byte after the tag header byte (E.4.2.1, E.4.3.1). */
const isSeqHeader = (t: FlvTag) => (t.type === 8 || t.type === 9) && t.body[1] === 0;
const isVideoFrame = (t: FlvTag) => t.type === 9 && !isSeqHeader(t);
const isKey = (t: FlvTag) => t.body[0]! >> 4 === 1;

/** An RTMP player's media messages as FLV tags; it may start before the publish (it waits). */
async function rtmpReader(url: string): Promise<{ tags: FlvTag[]; close: () => void }> {
  const client = await RtmpClient.connect(url);
  const tags: FlvTag[] = [];
  client.on('media', (m: { type: number; timestamp: number; payload: Buffer }) =>
    tags.push({ type: m.type, timestamp: m.timestamp, body: m.payload }),
  );
  await client.play();
  return { tags, close: () => client.close('test done') };
}

/** An HTTP-FLV viewer's tags, parsed as they arrive. */
async function httpReader(url: string): Promise<{ tags: FlvTag[]; close: () => void }> {
  const res = await httpGetStream(url);
  assert.equal(res.status, 200);
  const reader = new FlvTagReader();
  const tags: FlvTag[] = [];
  res.onData((chunk) => tags.push(...reader.push(chunk)));
  return { tags, close: res.destroy };
}

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function assertMonotonic(tags: FlvTag[], label: string): void {
  for (const type of [8, 9]) {
    const ts = tags.filter((t) => t.type === type && !isSeqHeader(t)).map((t) => t.timestamp);
    for (let i = 1; i < ts.length; i++) {
      assert.ok(ts[i]! >= ts[i - 1]!, `${label}: type ${type} timestamp ${ts[i]} after ${ts[i - 1]}`);
    }
  }
}

describe('pusher: loop and reconnect', { concurrency: true, timeout: 60_000 }, () => {
  test('--loop keeps timestamps increasing across the loop boundary, headers sent once', async () => {
    const o = await startOrigin();
    const abort = new AbortController();
    const path = 'live/loop';
    try {
      const push = pushFile({
        file: FLV_3S,
        url: `http://127.0.0.1:${o.ports.http}/${path}`,
        speed: 2,
        loop: true,
        reconnect: false,
        signal: abort.signal,
      });
      push.catch(() => {});
      await waitLive(o.origin, path);
      const viewer = await httpReader(o.flvUrl(path));
      // The file lasts 3 s: 4.5 s of timestamps means the second pass is well under way.
      await until(
        'the second pass',
        () => viewer.tags.some((t) => t.type === 9 && t.timestamp > 4500),
        15_000,
      );
      abort.abort();
      const result = await push;
      viewer.close();
      assert.equal(result.interrupted, true);
      assert.ok(result.pass >= 2, `pass ${result.pass}`);
      assertMonotonic(viewer.tags, 'loop');
      const video = viewer.tags.filter(isVideoFrame).map((t) => t.timestamp);
      const gaps = video.slice(1).map((ts, i) => ts - video[i]!);
      // 25 fps steps of 40 ms; at the boundary the gap to the end of the longer audio track (3.1 s).
      assert.ok(Math.max(...gaps) <= 200, `largest video step ${Math.max(...gaps)} ms`);
      assert.ok(
        video.some((ts) => ts >= 2960 && ts <= 3100),
        'no frame at the loop boundary',
      );
      assert.equal(
        viewer.tags.filter((t) => t.type === 9 && isSeqHeader(t)).length,
        1,
        'video header resent',
      );
      assert.equal(
        viewer.tags.filter((t) => t.type === 8 && isSeqHeader(t)).length,
        1,
        'audio header resent',
      );
    } finally {
      abort.abort();
      await o.stop();
    }
  });

  for (const scheme of ['http', 'rtmp'] as const) {
    test(`${scheme}: a server restart on the same ports resumes with continuous timestamps`, async () => {
      const a = await startOrigin();
      const path = `live/restart-${scheme}`;
      const urlOf = (o: typeof a) =>
        scheme === 'rtmp' ? o.rtmpUrl(path) : `http://127.0.0.1:${o.ports.http}/${path}`;
      const logs: string[] = [];
      const push = pushFile({
        file: scheme === 'rtmp' ? MP4_10S : FLV_10S,
        url: urlOf(a),
        speed: 2,
        backoff: { initialMs: 100, maxMs: 400 },
        log: (m) => logs.push(m),
      });
      push.catch(() => {});
      let b: Awaited<ReturnType<typeof startOrigin>> | undefined;
      try {
        await waitLive(a.origin, path);
        const before = await httpReader(a.flvUrl(path));
        await until(
          '3 s of media',
          () => before.tags.some((t) => isVideoFrame(t) && t.timestamp >= 3000),
          10_000,
        );
        const lastBefore = Math.max(...before.tags.filter(isVideoFrame).map((t) => t.timestamp));
        await a.stop();
        before.close();
        b = await startOrigin({ rtmpPort: a.ports.rtmp, httpPort: a.ports.http, webPort: a.ports.web });
        const after = await rtmpReader(b.rtmpUrl(path));
        const result = await Promise.race([
          push,
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error(`the push did not end; ${logs.join(' | ')}`)), 30_000).unref(),
          ),
        ]);
        await until('the end of the stream', () => after.tags.some((t) => t.timestamp >= 9900), 5000);
        after.close();
        assert.ok(result.reconnects >= 1, `reconnects: ${result.reconnects}; ${logs.join(' | ')}`);
        assert.ok(
          logs.some((l) => l.includes('reconnecting in')),
          logs.join(' | '),
        );
        // Skip the server's own |RtmpSampleAccess data message at play start.
        const media = after.tags.filter((t) => t.type !== 18 || t.body.includes('onMetaData'));
        const kinds = media
          .slice(0, 3)
          .map((t) => (t.type === 18 ? 'meta' : `${t.type}${isSeqHeader(t) ? '-seq' : ''}`));
        assert.deepEqual(kinds.sort(), ['8-seq', '9-seq', 'meta'], 'metadata and headers come first');
        const first = after.tags.find(isVideoFrame)!;
        assert.ok(isKey(first), 'the first video frame after the restart is not a keyframe');
        assert.ok(
          first.timestamp > lastBefore && first.timestamp - lastBefore <= 6000,
          `resumed at ${first.timestamp} ms after ${lastBefore} ms`,
        );
        assertMonotonic(after.tags, 'after restart');
      } finally {
        // Bounded: a push that never settles must fail this test, not hold the file open for ever.
        await Promise.race([push.catch(() => {}), new Promise((r) => setTimeout(r, 10_000).unref())]);
        await a.stop();
        await b?.stop();
      }
    });
  }
});
