import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measureFps, StreamStats } from '../../../../src/http/api/stream-stats.js';
import type { PublisherInfo } from '../../../../src/hub/live-stream.js';
import { StreamHub } from '../../../../src/hub/stream-hub.js';
import { makeStreamName } from '../../../../src/hub/stream-name.js';
import { silentLogger } from '../../../../src/log.js';
import type { MediaFrame } from '../../../../src/media/frame.js';
import type { AudioTrack, VideoTrack } from '../../../../src/media/track.js';

const V: VideoTrack = { kind: 'video', codec: 'h264', width: 2, height: 2 };
const A: AudioTrack = { kind: 'audio', codec: 'aac', sampleRate: 44100, channels: 2 };
const frame = (track: VideoTrack | AudioTrack, dts: number, bytes: number, keyframe = false): MediaFrame => ({
  track,
  dts,
  pts: dts,
  keyframe,
  data: Buffer.alloc(bytes),
});

function live() {
  const hub = new StreamHub(silentLogger());
  const pub: PublisherInfo = { protocol: 'rtmp', remote: '127.0.0.1:1', kick: () => {} };
  const s = hub.publish(makeStreamName('live', 's'), pub);
  return { hub, s, pub };
}

test('the sampler measures the input bitrate per interval and keeps a bounded history', () => {
  const { hub, s } = live();
  const stats = new StreamStats(hub, { keep: 3 });
  const t0 = s.publishedAt;
  s.pushFrame(frame(V, 0, 1000, true));
  stats.sample(t0 + 1000);
  assert.equal(stats.bitrate(s), 8000); // 1,000 bytes in the first second
  s.pushFrame(frame(V, 40, 3000));
  stats.sample(t0 + 1500);
  assert.equal(stats.bitrate(s), 48_000); // 3,000 bytes in half a second
  s.viewerJoined('http-flv');
  stats.sample(t0 + 2500);
  stats.sample(t0 + 3500);
  const h = stats.history(s);
  assert.equal(h.length, 3, 'bounded to keep');
  assert.deepEqual(
    h.map((x) => [x.t - t0, x.bitrate, x.viewers]),
    [
      [1500, 48_000, 0],
      [2500, 0, 1],
      [3500, 0, 1],
    ],
  );
});

test('before the first sample the bitrate is the average since the publish began', () => {
  const { hub, s } = live();
  const stats = new StreamStats(hub);
  s.pushFrame(frame(V, 0, 500, true));
  assert.equal(stats.bitrate(s, s.publishedAt + 2000), 2000);
  assert.deepEqual(stats.history(s), []);
});

test('a new publish of the name starts a new history; an ended one is forgotten', () => {
  const { hub, s, pub } = live();
  const stats = new StreamStats(hub);
  stats.sample(s.publishedAt + 1000);
  assert.equal(stats.history(s).length, 1);
  hub.unpublish(s, pub, 'done');
  stats.sample(Date.now() + 2000);
  assert.deepEqual(stats.history(s), []);
});

test('fps is measured from video DTS over the GOP cache (audio frames ignored)', () => {
  const { s } = live();
  assert.equal(measureFps(s), undefined);
  for (let i = 0; i < 26; i++) {
    s.pushFrame(frame(V, i * 40, 10, i === 0));
    s.pushFrame(frame(A, i * 40 + 5, 10));
  }
  assert.equal(measureFps(s), 25);
  // 30 fps in whole milliseconds: 33 or 34 ms apart.
  const { s: s30 } = live();
  for (let i = 0; i < 31; i++) s30.pushFrame(frame(V, Math.round((i * 1000) / 30), 10, i === 0));
  assert.equal(measureFps(s30), 30);
});

test('a publisher keeps one client id', () => {
  const { hub, pub } = live();
  const stats = new StreamStats(hub);
  const id = stats.clientId(pub);
  assert.match(id, /^[\w-]{8}$/);
  assert.equal(stats.clientId(pub), id);
  assert.notEqual(stats.clientId({ ...pub }), id);
});
