import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MediaFrame } from '../../../src/media/frame.js';
import type { AudioTrack, VideoTrack } from '../../../src/media/track.js';
import { TimestampRepair } from '../../../src/record/timestamp-repair.js';

const video: VideoTrack = { kind: 'video', codec: 'h264', width: 0, height: 0 };
const audio: AudioTrack = { kind: 'audio', codec: 'aac', sampleRate: 44100, channels: 2 };
const HOURS_50 = 50 * 3600 * 1000;

function frame(kind: 'v' | 'a', dts: number, cts = 0): MediaFrame {
  return { track: kind === 'v' ? video : audio, dts, pts: dts + cts, keyframe: true, data: Buffer.alloc(1) };
}

/** [input frames, expected output dts, jumps]: each case runs through one TimestampRepair. */
const cases: [string, MediaFrame[], number[], number][] = [
  ['steady timestamps pass unchanged', [frame('v', 0), frame('v', 40), frame('v', 80)], [0, 40, 80], 0],
  ['a 9 s pause is kept', [frame('v', 0), frame('v', 40), frame('v', 9040)], [0, 40, 9040], 0],
  [
    'a small step back is left alone',
    [frame('v', 100), frame('v', 140), frame('v', 120)],
    [100, 140, 120],
    0,
  ],
  [
    'a 50 h jump forward: the frame comes one spacing later, the rest follow',
    [frame('v', 0), frame('v', 40), frame('v', 80 + HOURS_50), frame('v', 120 + HOURS_50)],
    [0, 40, 80, 120],
    1,
  ],
  [
    'a jump back to 0 is repaired the same way',
    [frame('v', 5000), frame('v', 5040), frame('v', 0), frame('v', 40)],
    [5000, 5040, 5080, 5120],
    1,
  ],
  [
    'tracks are repaired apart: interleaving across the jump moves nothing wrongly',
    [
      frame('v', 0),
      frame('a', 10),
      frame('v', 40),
      frame('a', 33),
      frame('v', 80 + HOURS_50),
      frame('a', 56), // audio sent before the jump, after the video that jumped
      frame('a', 79 + HOURS_50),
      frame('v', 120 + HOURS_50),
    ],
    [0, 10, 40, 33, 80, 56, 79, 120],
    2,
  ],
  [
    'the spacing before a jump is not a pause taken as a frame',
    [frame('v', 0), frame('v', 5000), frame('v', 5040 + HOURS_50)],
    [0, 5000, 6000],
    1,
  ],
];

test('TimestampRepair keeps each track continuous across jumps', () => {
  for (const [name, input, want, jumps] of cases) {
    const r = new TimestampRepair();
    const got = input.map((f) => r.fix(f).frame.dts);
    assert.deepEqual(got, want, name);
    assert.equal(r.jumps, jumps, `${name}: jumps`);
  }
});

test('TimestampRepair shifts pts with dts (B-frame offsets are kept) and reports the jump', () => {
  const r = new TimestampRepair();
  r.fix(frame('v', 0, 80));
  r.fix(frame('v', 40, 120));
  const { frame: f, jump } = r.fix(frame('v', 80 + HOURS_50, 40));
  assert.equal(f.dts, 80);
  assert.equal(f.pts, 120);
  assert.deepEqual(jump, { kind: 'video', fromMs: 40, toMs: 80 + HOURS_50, shiftMs: -HOURS_50 });
});
