import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderMediaPlaylist } from '../../../../src/formats/m3u8/playlist.js';
import {
  type FrameTiming,
  HlsSegmenter,
  type SegmenterOptions,
  segmentName,
} from '../../../../src/record/hls/segmenter.js';

/** `count` video frames `step` ms apart from `from`, a keyframe every `gop` ms. */
function video(from: number, count: number, step: number, gop: number): FrameTiming[] {
  return Array.from({ length: count }, (_, i) => {
    const dts = from + i * step;
    return { kind: 'video', dts, keyframe: (dts - from) % gop === 0, bytes: 100 };
  });
}

function audio(from: number, count: number, step: number): FrameTiming[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: 'audio',
    dts: from + i * step,
    keyframe: true,
    bytes: 10,
  }));
}

/** Two tracks merged in dts order, video first on a tie (as an FLV muxer interleaves them). */
function interleave(a: FrameTiming[], b: FrameTiming[]): FrameTiming[] {
  return [...a, ...b].sort((x, y) => x.dts - y.dts || (x.kind === 'video' ? -1 : 1));
}

interface Outcome {
  /** dts of each frame that started a segment. */
  starts: number[];
  dropped: number;
  durations: number[];
  deleted: string[];
  segmenter: HlsSegmenter;
}

function run(opts: SegmenterOptions, hasVideo: boolean, frames: FrameTiming[]): Outcome {
  const s = new HlsSegmenter(opts);
  s.configure(hasVideo, false);
  const out: Outcome = { starts: [], dropped: 0, durations: [], deleted: [], segmenter: s };
  for (const f of frames) {
    const r = s.push(f);
    if (r.drop) out.dropped++;
    if (r.startsSegment) out.starts.push(f.dts);
    if (r.closed) out.durations.push(r.closed.durationMs);
    out.deleted.push(...r.expired.map((e) => e.uri));
  }
  const end = s.finish();
  if (end.closed) out.durations.push(end.closed.durationMs);
  out.deleted.push(...end.expired.map((e) => e.uri));
  return out;
}

const KEEP_ALL = { targetMs: 2000, window: 0 };

const CUT_CASES: {
  name: string;
  hasVideo: boolean;
  frames: FrameTiming[];
  starts: number[];
  durations: number[];
  dropped?: number;
}[] = [
  {
    name: 'GOP 1 s, target 2 s: every second keyframe cuts',
    hasVideo: true,
    frames: video(0, 150, 40, 1000),
    starts: [0, 2000, 4000],
    durations: [2000, 2000, 2000],
  },
  {
    name: 'GOP 3 s, target 2 s: a segment lasts until the keyframe after the target',
    hasVideo: true,
    frames: video(0, 150, 40, 3000),
    starts: [0, 3000],
    durations: [3000, 3000],
  },
  {
    name: 'a keyframe before the target does not cut',
    hasVideo: true,
    frames: video(0, 100, 40, 1960),
    starts: [0, 3920],
    durations: [3920, 80],
  },
  {
    name: 'audio + video: only video keyframes cut, audio at the target does not',
    hasVideo: true,
    frames: interleave(video(40, 100, 40, 2000), audio(0, 160, 25)),
    starts: [0, 2040],
    durations: [2040, 2000],
  },
  {
    name: 'audio only: any frame at the target cuts',
    hasVideo: false,
    frames: audio(0, 100, 25),
    starts: [0, 2000],
    durations: [2000, 500],
  },
  {
    name: 'video delta frames before the first keyframe are dropped; audio before it is kept',
    hasVideo: true,
    frames: interleave(
      [...video(0, 3, 40, 1e9).map((f) => ({ ...f, keyframe: false })), ...video(120, 75, 40, 2000)],
      audio(100, 120, 25),
    ),
    starts: [100, 2120],
    durations: [2020, 1000],
    dropped: 3,
  },
];

for (const c of CUT_CASES) {
  test(`cut points: ${c.name}`, () => {
    const out = run(KEEP_ALL, c.hasVideo, c.frames);
    assert.deepEqual(out.starts, c.starts);
    assert.deepEqual(out.durations, c.durations);
    assert.equal(out.dropped, c.dropped ?? 0);
    assert.deepEqual(out.deleted, []);
  });
}

test('the last segment ends where the last video frame ends, not the audio that runs past it', () => {
  // 10 s of 25 fps video (last frame 9960 + 40) and audio frames to 10065 + 23.
  const frames = interleave(video(0, 250, 40, 2000), audio(0, 438, 23));
  const out = run(KEEP_ALL, true, frames);
  assert.deepEqual(out.durations, [2000, 2000, 2000, 2000, 2000]);
});

test('window 0 keeps every segment in an EVENT playlist, deletes nothing and ends as VOD', () => {
  const out = run(KEEP_ALL, true, video(0, 250, 40, 2000));
  assert.equal(out.segmenter.playlist(false).playlistType, 'EVENT');
  const p = out.segmenter.playlist(true);
  assert.equal(p.playlistType, 'VOD');
  assert.equal(p.mediaSequence, 0);
  assert.equal(p.segments.length, 5);
  assert.deepEqual(out.deleted, []);
  assert.equal(
    renderMediaPlaylist(p),
    [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-DISCONTINUITY-SEQUENCE:0',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      ...[0, 1, 2, 3, 4].flatMap((i) => ['#EXTINF:2.000,', `segment_0000${i}.ts`]),
      '#EXT-X-ENDLIST',
      '',
    ].join('\n'),
  );
});

test('keepSegments: a live window of 3, nothing deleted, the ended playlist lists all (VOD)', () => {
  const out = run({ targetMs: 1000, window: 3, keepSegments: true }, true, video(0, 150, 40, 1000));
  assert.deepEqual(out.deleted, []);
  const live = out.segmenter.playlist(false);
  assert.equal(live.segments.length, 3, 'the live playlist is still the window');
  const ended = out.segmenter.playlist(true);
  assert.equal(ended.playlistType, 'VOD');
  assert.equal(ended.mediaSequence, 0);
  assert.equal(ended.discontinuitySequence, 0);
  assert.deepEqual(
    ended.segments.map((x) => x.uri),
    [0, 1, 2, 3, 4, 5].map((i) => `segment_0000${i}.ts`),
  );
});

/** Six 1 s segments (keyframe every 1 s, target 1 s), window 3: segments 0-2 leave the playlist. */
const SIX = video(0, 150, 40, 1000);

const WINDOW_CASES: { name: string; graceMs?: number; deletedWhen: Record<string, number> }[] = [
  // Segment n leaves when segment n+3 closes, at dts (n+4) s; with no grace it goes at once.
  {
    name: 'grace 0',
    graceMs: 0,
    deletedWhen: { 'segment_00000.ts': 4000, 'segment_00001.ts': 5000, 'segment_00002.ts': -1 },
  },
  // 1.5 s later on the stream clock; segment 1 (retired at 5000) is still waiting at the end.
  {
    name: 'grace 1.5 s',
    graceMs: 1500,
    deletedWhen: { 'segment_00000.ts': 5520, 'segment_00001.ts': -1, 'segment_00002.ts': -1 },
  },
  // RFC 8216 6.2.2: its duration (1 s) + the playlist that last listed it (4 × 1 s) = 5 s: past the end.
  {
    name: 'default grace (RFC 8216 6.2.2)',
    deletedWhen: { 'segment_00000.ts': -1, 'segment_00001.ts': -1, 'segment_00002.ts': -1 },
  },
];

for (const c of WINDOW_CASES) {
  test(`window 3, ${c.name}: the playlist slides and old files go after the grace`, () => {
    const s = new HlsSegmenter({ targetMs: 1000, window: 3, graceMs: c.graceMs });
    s.configure(true, false);
    const deletedAt: Record<string, number> = {};
    for (const f of SIX) for (const e of s.push(f).expired) deletedAt[e.uri] = f.dts;
    const live = s.playlist(false);
    assert.equal(live.mediaSequence, 2);
    assert.deepEqual(
      live.segments.map((x) => x.uri),
      ['segment_00002.ts', 'segment_00003.ts', 'segment_00004.ts'],
    );
    assert.equal(live.playlistType, undefined);
    const end = s.finish();
    // The stream ended: segment 5 closes and pushes segment 2 out; whatever still waits out its
    // grace goes now (-1), since the final playlist replaces every live one.
    for (const e of end.expired) deletedAt[e.uri] = -1;
    assert.deepEqual(deletedAt, c.deletedWhen);
    const final = s.playlist(true);
    assert.equal(final.mediaSequence, 3);
    assert.deepEqual(
      final.segments.map((x) => x.uri),
      ['segment_00003.ts', 'segment_00004.ts', 'segment_00005.ts'],
    );
  });
}

test('a track change cuts at the next cut point whatever the duration, with a discontinuity', () => {
  const s = new HlsSegmenter({ targetMs: 2000, window: 2, graceMs: 0 });
  s.configure(false, false);
  for (const f of audio(0, 20, 25)) s.push(f); // audio only, 0-475 ms
  s.configure(true, true); // video appears: cut on its first keyframe
  assert.equal(s.push({ kind: 'audio', dts: 500, keyframe: true, bytes: 1 }).startsSegment, false);
  assert.equal(s.push({ kind: 'video', dts: 510, keyframe: false, bytes: 1 }).startsSegment, false);
  const r = s.push({ kind: 'video', dts: 520, keyframe: true, bytes: 1 });
  assert.equal(r.startsSegment, true);
  assert.deepEqual(r.closed, {
    sequence: 0,
    uri: 'segment_00000.ts',
    startDts: 0,
    durationMs: 520,
    discontinuity: false,
  });
  for (const f of video(560, 200, 40, 2000)) s.push(f);
  s.finish();
  const p = s.playlist(true);
  // Segments 1 (the discontinuity) and 2 left the window of 2: the sequence counts the first.
  assert.equal(p.mediaSequence, 3);
  assert.equal(p.discontinuitySequence, 1);
  assert.ok(p.segments.every((x) => !x.discontinuity));
  assert.match(renderMediaPlaylist(p), /#EXT-X-DISCONTINUITY-SEQUENCE:1\n/);
});

test('the discontinuity segment is marked while it is listed', () => {
  const s = new HlsSegmenter({ targetMs: 2000, window: 0 });
  s.configure(true, false);
  for (const f of video(0, 10, 40, 2000)) s.push(f);
  s.configure(true, true);
  s.push({ kind: 'video', dts: 400, keyframe: true, bytes: 1 });
  s.finish();
  const p = s.playlist(true);
  assert.deepEqual(
    p.segments.map((x) => x.discontinuity),
    [false, true],
  );
  assert.match(renderMediaPlaylist(p), /segment_00000\.ts\n#EXT-X-DISCONTINUITY\n#EXTINF/);
});

test('a segment over maxSegmentBytes is cut without a keyframe and the playlist stops claiming independence', () => {
  const s = new HlsSegmenter({ targetMs: 2000, window: 0, maxSegmentBytes: 250 });
  s.configure(true, false);
  const starts: number[] = [];
  for (const f of video(0, 6, 40, 1e9)) if (s.push(f).startsSegment) starts.push(f.dts);
  // 100 bytes a frame: the open segment reaches 300 ≥ 250 after the third frame, the fourth cuts.
  assert.deepEqual(starts, [0, 120]);
  assert.equal(s.playlist(false).independentSegments, false);
});

test('a clock that jumps back never makes a negative duration', () => {
  const s = new HlsSegmenter({ targetMs: 1000, window: 0 });
  s.configure(false, false);
  s.push({ kind: 'audio', dts: 5000, keyframe: true, bytes: 1 });
  s.push({ kind: 'audio', dts: 100, keyframe: true, bytes: 1 });
  const r = s.push({ kind: 'audio', dts: 6000, keyframe: true, bytes: 1 });
  assert.equal(r.closed?.durationMs, 1000);
  const last = s.finish();
  assert.ok((last.closed?.durationMs ?? -1) >= 0);
});

test('an empty recording closes nothing and lists nothing', () => {
  const s = new HlsSegmenter(KEEP_ALL);
  const r = s.finish();
  assert.equal(r.closed, undefined);
  assert.equal(s.hasOpenSegment, false);
  assert.equal(s.playlist(true).segments.length, 0);
});

test('segment names are zero-padded so a listing sorts in playback order', () => {
  assert.equal(segmentName(0), 'segment_00000.ts');
  assert.equal(segmentName(42), 'segment_00042.ts');
  assert.equal(segmentName(123456), 'segment_123456.ts');
});
