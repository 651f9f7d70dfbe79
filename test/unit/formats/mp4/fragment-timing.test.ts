import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrackTimeline, timelineForTrack } from '../../../../src/formats/mp4/fragment-timing.js';
import type { MediaFrame } from '../../../../src/media/frame.js';
import type { Track } from '../../../../src/media/track.js';
import { audio, video } from './tracks.js';

const frame = (track: Track, dts: number, pts = dts, keyframe = true): MediaFrame => ({
  track,
  dts,
  pts,
  keyframe,
  data: Buffer.alloc(3),
});

test('video: durations are next dts - this dts at 90 kHz; cts offset from pts - dts', () => {
  const tl = timelineForTrack(video);
  const f = tl.fragment(1, [frame(video, 0, 80), frame(video, 40, 160, false), frame(video, 80, 120, false)]);
  assert.equal(f.baseMediaDecodeTime, 0);
  assert.deepEqual(
    f.samples.map((s) => s.duration),
    [3600, 3600, 3600],
  ); // last repeats the previous
  assert.deepEqual(
    f.samples.map((s) => s.compositionOffset),
    [7200, 10800, 3600],
  );
  assert.deepEqual(
    f.samples.map((s) => s.flags.keyframe),
    [true, false, false],
  );
});

test('the last sample takes its duration from the next fragment start when the caller knows it', () => {
  const tl = timelineForTrack(video);
  const f = tl.fragment(1, [frame(video, 0), frame(video, 40)], 100);
  assert.deepEqual(
    f.samples.map((s) => s.duration),
    [3600, 5400],
  );
  // Next fragment: tfdt from its own timestamp.
  assert.equal(tl.fragment(1, [frame(video, 100)]).baseMediaDecodeTime, 9000);
});

test('a lone first sample gets the default duration, later lone samples the previous one', () => {
  const tl = timelineForTrack(video);
  assert.equal(tl.fragment(1, [frame(video, 0)]).samples[0].duration, 3600);
  const tl2 = timelineForTrack(video);
  tl2.fragment(1, [frame(video, 0), frame(video, 33)]);
  assert.equal(tl2.fragment(1, [frame(video, 66)]).samples[0].duration, 33 * 90);
});

test('AAC: exactly 1024 ticks per frame although ms timestamps jitter (23/24 ms)', () => {
  const tl = timelineForTrack(audio);
  // 44.1 kHz frames are 23.22 ms; FLV rounds them to whole ms.
  const dts = Array.from({ length: 200 }, (_, i) => Math.round((i * 1024 * 1000) / 44100));
  const frames = dts.map((d) => frame(audio, d));
  const a = tl.fragment(2, frames.slice(0, 100));
  const b = tl.fragment(2, frames.slice(100));
  assert.ok([...a.samples, ...b.samples].every((s) => s.duration === 1024));
  assert.equal(b.baseMediaDecodeTime, 100 * 1024);
});

test('AAC: a gap larger than half a frame re-synchronises to the ms clock', () => {
  const tl = timelineForTrack(audio);
  const f = tl.fragment(2, [frame(audio, 0), frame(audio, 23), frame(audio, 1000)]);
  assert.deepEqual(
    f.samples.map((s) => s.duration),
    [1024, 44100 - 1024, 1024],
  );
});

test('no drift: after an hour of 29.97 fps frames the decode time equals the ms clock to one tick', () => {
  const tl = timelineForTrack(video);
  let last = 0;
  for (let i = 0; i < 3600 * 30; i += 300) {
    const frames = Array.from({ length: 300 }, (_, k) => frame(video, Math.round(((i + k) * 1001) / 30)));
    const f = tl.fragment(1, frames, Math.round(((i + 300) * 1001) / 30));
    const endTicks = f.baseMediaDecodeTime + f.samples.reduce((n, s) => n + s.duration, 0);
    last = endTicks;
  }
  const clockMs = Math.round((3600 * 30 * 1001) / 30);
  assert.ok(Math.abs(last - clockMs * 90) <= 1);
});

test('decode times never go backwards; frames before the origin are rejected', () => {
  const tl = new TrackTimeline({ timescale: 1000, defaultSampleDuration: 40 });
  const f = tl.fragment(1, [frame(video, 100), frame(video, 90), frame(video, 140)]);
  assert.deepEqual(
    f.samples.map((s) => s.duration),
    [0, 40, 40],
  );
  const t2 = timelineForTrack(video, 50);
  assert.throws(() => t2.fragment(1, [frame(video, 10)]), /before the origin/);
  assert.equal(timelineForTrack(video, -80).fragment(1, [frame(video, -80)]).baseMediaDecodeTime, 0);
});
