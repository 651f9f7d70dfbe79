import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MediaFrame } from '../../../src/media/frame.js';
import type { AudioTrack, VideoTrack } from '../../../src/media/track.js';
import { PushTimeline } from '../../../src/pusher/timeline.js';

const video: VideoTrack = { kind: 'video', codec: 'h264', width: 320, height: 240 };
const audio: AudioTrack = { kind: 'audio', codec: 'aac', sampleRate: 44100, channels: 2 };
const v = (dts: number, pts = dts): MediaFrame => ({
  track: video,
  dts,
  pts,
  keyframe: false,
  data: Buffer.alloc(0),
});
const a = (dts: number): MediaFrame => ({
  track: audio,
  dts,
  pts: dts,
  keyframe: true,
  data: Buffer.alloc(0),
});

test('timeline: a negative first dts (MP4 with B-frames) moves to 0, pts - dts kept', () => {
  const tl = new PushTimeline();
  tl.startPass();
  assert.deepEqual(tl.map(v(-80, 0)), { dts: 0, pts: 80 });
  assert.deepEqual(tl.map(v(-40, 120)), { dts: 40, pts: 200 });
  assert.deepEqual(tl.map(a(-23)), { dts: 57, pts: 57 });
  assert.deepEqual(tl.map(v(0, 40)), { dts: 80, pts: 120 });
});

test('timeline: an FLV starting at hours starts at 0', () => {
  const tl = new PushTimeline();
  tl.startPass();
  assert.deepEqual(tl.map(v(7_200_000)), { dts: 0, pts: 0 });
  assert.deepEqual(tl.map(a(7_200_010)), { dts: 10, pts: 10 });
});

test('timeline: each loop starts one frame duration after the end of the previous one', () => {
  const tl = new PushTimeline();
  const pass = () => {
    tl.startPass();
    const out = [v(-80, 0), a(-23), v(-40, 40), a(0), v(0, 80), a(23)].map((f) => tl.map(f));
    return out.map((o) => o.dts);
  };
  assert.deepEqual(pass(), [0, 57, 40, 80, 80, 103]);
  // Video ends at 80 (+40 = 120), audio at 103 (+23 = 126): the next pass starts at 126.
  assert.equal(tl.end, 126);
  assert.deepEqual(pass(), [126, 183, 166, 206, 206, 229]);
  assert.equal(tl.pass, 2);
});

test('timeline: a dts stepping back is held, pts never below dts', () => {
  const tl = new PushTimeline();
  tl.startPass();
  tl.map(v(0));
  tl.map(v(40));
  assert.deepEqual(tl.map(v(20, 20)), { dts: 40, pts: 40 });
  assert.deepEqual(tl.map(v(80)), { dts: 80, pts: 80 });
});

test('timeline: a track with one frame still ends after it (1 ms)', () => {
  const tl = new PushTimeline();
  tl.startPass();
  tl.map(v(500));
  assert.equal(tl.end, 1);
  tl.startPass();
  assert.deepEqual(tl.map(v(500)), { dts: 1, pts: 1 });
});
