import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MediaFrame } from '../../../../src/media/frame.js';
import type { Track } from '../../../../src/media/track.js';
import {
  PREROLL_MS,
  type PushResult,
  type Segment,
  Segmenter,
  sameTrackConfig,
} from '../../../../src/record/fmp4/segmenter.js';
import { audio, video } from '../../formats/mp4/tracks.js';

function frame(
  track: Track,
  dts: number,
  keyframe = track.kind === 'audio',
  size = 10,
  pts = dts,
): MediaFrame {
  return { track, dts, pts, keyframe, data: Buffer.alloc(size) };
}

/** 25 fps video with a keyframe every `gopMs`, and AAC 44.1 kHz (~23.2 ms frames), interleaved by dts. */
function stream(
  durationMs: number,
  gopMs: number,
  opts: { video?: boolean; audio?: boolean } = {},
): MediaFrame[] {
  const out: MediaFrame[] = [];
  if (opts.video !== false)
    for (let t = 0; t < durationMs; t += 40) out.push(frame(video, t, t % gopMs === 0));
  if (opts.audio !== false)
    for (let i = 0; (i * 1024000) / 44100 < durationMs; i++)
      out.push(frame(audio, Math.round((i * 1024000) / 44100)));
  return out.sort((a, b) => a.dts - b.dts || (a.track.kind === 'video' ? -1 : 1));
}

function segmentAll(frames: MediaFrame[], s: Segmenter): { segments: Segment[]; results: PushResult[] } {
  const segments: Segment[] = [];
  const results: PushResult[] = [];
  for (const f of frames) {
    const r = s.push(f);
    results.push(r);
    if (r.kind === 'segment') segments.push(r.segment);
  }
  const last = s.flush();
  if (last) segments.push(last);
  return { segments, results };
}

test('cuts on the first video keyframe at least the target duration after the segment start', () => {
  // [target, GOP, expected segment starts]
  const cases: [number, number, number[]][] = [
    [2000, 2000, [0, 2000, 4000, 6000, 8000]],
    [2000, 1000, [0, 2000, 4000, 6000, 8000]],
    [2000, 1200, [0, 2400, 4800, 7200, 9600]],
    [2000, 3000, [0, 3000, 6000, 9000]],
  ];
  for (const [target, gop, starts] of cases) {
    const s = new Segmenter({ targetMs: target });
    s.announce(video);
    const { segments } = segmentAll(stream(10_000, gop), s);
    assert.deepEqual(
      segments.map((g) => g.startMs),
      starts,
      `target ${target}, GOP ${gop}`,
    );
    for (const g of segments) {
      assert.ok(g.video[0].keyframe, 'every segment starts with a keyframe');
      assert.equal(g.forced, false);
    }
    // Every frame lands in exactly one segment.
    const total = segments.reduce((n, g) => n + g.video.length + g.audio.length, 0);
    assert.equal(total, stream(10_000, gop).length);
  }
});

test('the next segment opener gives the exact last video duration', () => {
  const s = new Segmenter({ targetMs: 2000 });
  s.announce(video);
  const { segments } = segmentAll(stream(6000, 2000), s);
  assert.deepEqual(segments[0].next, { video: 2000 });
  assert.deepEqual(segments[1].next, { video: 4000 });
  assert.deepEqual(segments[2].next, {}, 'the flushed last segment has no opener');
});

test('waits for the first keyframe; keeps audio interleaved just before it, drops older audio', () => {
  const s = new Segmenter({ targetMs: 2000 });
  s.announce(video);
  const early = [frame(audio, 0), frame(audio, 23), frame(video, 40, false), frame(audio, 46)];
  const results = early.map((f) => s.push(f).kind);
  assert.deepEqual(results, ['buffered', 'buffered', 'dropped', 'buffered']);
  assert.equal(s.originMs, undefined);
  // Keyframe at 120: audio at 23 and 46 lie within PREROLL_MS (100) before it, audio at 0 does not.
  assert.equal(PREROLL_MS, 100);
  s.push(frame(video, 120, true));
  assert.equal(s.originMs, 23);
  const seg = s.flush()!;
  assert.deepEqual(
    seg.audio.map((f) => f.dts),
    [23, 46],
  );
  assert.deepEqual(
    seg.video.map((f) => f.dts),
    [120],
  );
  assert.equal(seg.startMs, 23);
});

test('audio-only: starts at once and cuts on the target duration', () => {
  const s = new Segmenter({ targetMs: 2000 });
  s.announce(audio);
  const { segments } = segmentAll(stream(5000, 2000, { video: false }), s);
  assert.equal(segments.length, 3);
  assert.equal(segments[0].startMs, 0);
  assert.ok(segments[1].startMs >= 2000 && segments[1].startMs < 2024);
  assert.equal(segments[0].next.audio, segments[1].startMs);
  assert.equal(s.video, undefined);
  assert.equal(s.audio, audio);
});

test('a segment with no keyframe is cut at the duration or byte limit (forced)', () => {
  const byTime = new Segmenter({ targetMs: 2000, maxMs: 5000 });
  byTime.announce(video);
  const frames = [
    frame(video, 0, true),
    ...Array.from({ length: 200 }, (_, i) => frame(video, 40 * (i + 1), false)),
  ];
  const { segments } = segmentAll(frames, byTime);
  assert.deepEqual(
    segments.map((g) => [g.startMs, g.forced]),
    [
      [0, true],
      [5000, false],
    ],
  );
  const bySize = new Segmenter({ targetMs: 2000, maxBytes: 1000 });
  const big = Array.from({ length: 5 }, (_, i) => frame(video, 40 * i, i === 0, 400));
  const r = segmentAll(big, bySize).segments;
  assert.deepEqual(
    r.map((g) => g.video.length),
    [2, 2, 1],
  );
});

test('a repeated sequence header is no change; a new configuration ends the run', () => {
  const same = { ...video, config: Buffer.from(video.config!) };
  assert.ok(sameTrackConfig(video, same));
  assert.ok(!sameTrackConfig(video, { ...video, width: 640 }));
  assert.ok(!sameTrackConfig(audio, { ...audio, sampleRate: 48000 }));
  assert.ok(!sameTrackConfig(video, audio));
  const s = new Segmenter({ targetMs: 2000 });
  s.push(frame(video, 0, true));
  assert.equal(s.push(frame(same, 40, false)).kind, 'buffered');
  const changed = { ...video, config: Buffer.from([1, 2, 3]) };
  const r = s.push(frame(changed, 80, true));
  assert.deepEqual(r, { kind: 'changed', track: changed });
  assert.equal(s.flush()?.video.length, 2);
});

test('a track that starts after the first cut is left out; frames before the origin are dropped', () => {
  const s = new Segmenter({ targetMs: 1000 });
  s.push(frame(video, 500, true));
  assert.deepEqual(s.push(frame(audio, 400)), { kind: 'dropped', why: 'before-origin' });
  assert.equal(s.audio, audio, 'a track seen before the first cut is recorded');
  assert.equal(s.push(frame(video, 1500, true)).kind, 'segment');
  const late = { ...audio, codec: 'opus' as const, sampleRate: 48000 };
  const s2 = new Segmenter({ targetMs: 1000 });
  s2.push(frame(video, 0, true));
  s2.push(frame(video, 1000, true));
  assert.deepEqual(s2.push(frame(late, 1010)), { kind: 'dropped', why: 'late-track' });
});
