import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GopCache } from '../../../src/hub/gop-cache.js';
import type { MediaFrame } from '../../../src/media/frame.js';
import type { AudioTrack, VideoTrack } from '../../../src/media/track.js';

const V: VideoTrack = { kind: 'video', codec: 'h264', width: 2, height: 2 };
const A: AudioTrack = { kind: 'audio', codec: 'aac', sampleRate: 48000, channels: 2 };

/** `K0` video keyframe at 0 ms, `v40` video inter frame, `a20` audio; `:size` sets the payload size. */
function frames(script: string): MediaFrame[] {
  return script.split(' ').map((w) => {
    const m = /^([Kva])(\d+)(?::(\d+))?$/.exec(w);
    if (!m) throw new Error(`bad frame ${w}`);
    const dts = Number(m[2]);
    const size = m[3] ? Number(m[3]) : 10;
    const track = m[1] === 'a' ? A : V;
    return { track, dts, pts: dts, keyframe: m[1] === 'K', data: Buffer.alloc(size) };
  });
}

function show(f: readonly MediaFrame[]): string {
  return f.map((x) => `${x.track.kind === 'audio' ? 'a' : x.keyframe ? 'K' : 'v'}${x.dts}`).join(' ');
}

/** [what, limits, frames pushed, what the cache holds, truncated] */
const CASES: [string, { maxBytes: number; maxDurationMs: number }, string, string, boolean][] = [
  [
    'starts at the last keyframe',
    { maxBytes: 1e6, maxDurationMs: 1e6 },
    'K0 v40 a50 K80 v120 a130',
    'K80 v120 a130',
    false,
  ],
  [
    'nothing before the first keyframe is kept',
    { maxBytes: 1e6, maxDurationMs: 1e6 },
    'a0 v40 a50',
    '',
    false,
  ],
  [
    'audio before the first video keyframe is kept until video shows up (audio-only so far)',
    { maxBytes: 1e6, maxDurationMs: 1e6 },
    'a0 a20',
    'a0 a20',
    false,
  ],
  [
    'bounded by bytes: stops growing, keeps its keyframe, marked truncated',
    { maxBytes: 25, maxDurationMs: 1e6 },
    'K0 v40 v80 v120',
    'K0 v40',
    true,
  ],
  [
    'bounded by duration from the keyframe',
    { maxBytes: 1e6, maxDurationMs: 100 },
    'K0 v40 v80 v120 v160',
    'K0 v40 v80',
    true,
  ],
  [
    'a new keyframe after an overflow starts afresh',
    { maxBytes: 25, maxDurationMs: 1e6 },
    'K0 v40 v80 K120 v160',
    'K120 v160',
    false,
  ],
  [
    'one huge keyframe is still kept (the GOP must start somewhere)',
    { maxBytes: 5, maxDurationMs: 1e6 },
    'K0:100 v40',
    'K0',
    true,
  ],
];

for (const [what, limits, pushed, held, truncated] of CASES) {
  test(`GopCache: ${what}`, () => {
    const c = new GopCache(limits);
    for (const f of frames(pushed)) c.push(f);
    assert.equal(show(c.frames), held);
    assert.equal(c.truncated, truncated);
  });
}

test('GopCache: audio-only streams keep the last second of audio', () => {
  const c = new GopCache(undefined, 1000);
  for (const f of frames('a0 a500 a1000 a1500 a2100')) c.push(f);
  assert.equal(show(c.frames), 'a1500 a2100');
});

test('GopCache: clear forgets the frames and that video was seen', () => {
  const c = new GopCache();
  for (const f of frames('K0 v40')) c.push(f);
  c.clear();
  assert.equal(c.frames.length, 0);
  for (const f of frames('a0 a20')) c.push(f);
  assert.equal(show(c.frames), 'a0 a20', 'after clear, audio counts as audio-only again');
});
