import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMovieFragment } from '../../../../src/formats/mp4/fragment-parser.js';
import type { MediaFrame } from '../../../../src/media/frame.js';
import type { Track } from '../../../../src/media/track.js';
import { FragmentRun } from '../../../../src/record/fmp4/fragment-run.js';
import type { Segment } from '../../../../src/record/fmp4/segmenter.js';
import { audio, video } from '../../formats/mp4/tracks.js';

function frame(track: Track, dts: number, keyframe: boolean, pts = dts): MediaFrame {
  return { track, dts, pts, keyframe, data: Buffer.from([dts & 0xff, 1, 2]) };
}

function segment(start: number, videoDts: number[], audioDts: number[], nextVideo?: number): Segment {
  return {
    startMs: start,
    video: videoDts.map((d, i) => frame(video, d, i === 0, d + 80)),
    audio: audioDts.map((d) => frame(audio, d, true)),
    next: nextVideo === undefined ? {} : { video: nextVideo },
    forced: false,
  };
}

function parse(parts: Buffer[]) {
  return parseMovieFragment(Buffer.concat(parts), 0, new Map(), new Map());
}

const ftypOf = (b: Buffer) => b.toString('latin1', 4, 8);

test('inits: merged with both tracks, one per track for output_separate', () => {
  const run = new FragmentRun({ video, audio }, 1000);
  assert.equal(ftypOf(run.inits.merged!), 'ftyp');
  assert.ok(run.inits.video && run.inits.audio);
  assert.ok(run.inits.merged!.length > run.inits.video.length, 'the merged init holds both traks');
  const vOnly = new FragmentRun({ video }, 0);
  assert.equal(vOnly.inits.audio, undefined);
  assert.throws(() => new FragmentRun({}, 0), { code: 'ERR_MP4_FORMAT' });
});

test('merged segment: one traf per track, decode times from the origin, exact video durations', () => {
  const run = new FragmentRun({ video, audio }, 1000);
  // Video 25 fps from 1000 ms, AAC frames from 1000 ms; the next keyframe is at 1120 ms.
  const built = run.build(segment(1000, [1000, 1040, 1080], [1000, 1023, 1046, 1070], 1120));
  const trafs = parse(built.merged!.parts);
  assert.deepEqual(
    trafs.map((t) => t.trackId),
    [1, 2],
  );
  const [v, a] = trafs;
  // 90 kHz video: 40 ms = 3600 ticks; decode time 0 at the origin.
  assert.deepEqual(
    v.samples.map((s) => [s.dts, s.duration, s.compositionOffset, s.sync]),
    [
      [0, 3600, 7200, true],
      [3600, 3600, 7200, false],
      [7200, 3600, 7200, false],
    ],
  );
  // AAC: exactly 1024 ticks a frame at 44.1 kHz (14496-3 4.5.1.1), whatever the ms rounding.
  assert.deepEqual(
    a.samples.map((s) => [s.dts, s.duration]),
    [
      [0, 1024],
      [1024, 1024],
      [2048, 1024],
      [3072, 1024],
    ],
  );
  assert.equal(built.merged!.seconds, 0.12, 'listed duration follows the video');
  assert.equal(built.audio!.seconds, (4 * 1024) / 44100);
  assert.equal(built.merged!.sequence, 1);
});

test('separate segments: same samples, own sequence numbers; an output without samples is skipped', () => {
  const run = new FragmentRun({ video, audio }, 0);
  const first = run.build(segment(0, [0, 40], [0, 23], 80));
  const second = run.build(segment(80, [80, 120], [], 160));
  assert.equal(parse(first.video!.parts)[0].samples.length, 2);
  assert.deepEqual(
    parse(first.audio!.parts).map((t) => t.trackId),
    [2],
  );
  assert.equal(second.audio, undefined, 'no audio in this cut: no audio segment');
  assert.deepEqual([second.merged!.sequence, second.video!.sequence], [2, 2]);
  assert.deepEqual(
    parse(second.merged!.parts).map((t) => t.trackId),
    [1],
  );
  const third = run.build(segment(160, [160], [161], 200));
  assert.equal(third.audio!.sequence, 2, 'the audio output numbers its own segments');
  // The merged moof's mfhd carries the sequence number (8.8.5): bytes 20..24 of moof+mfhd.
  assert.equal(third.merged!.parts[0].readUInt32BE(20), 3);
});
