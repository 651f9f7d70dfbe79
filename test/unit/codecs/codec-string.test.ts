import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CodecDetails, codecDetails } from '../../../src/codecs/codec-string.js';
import type { Track } from '../../../src/media/track.js';

/** avcC with no parameter sets: configurationVersion, profile, compatibility, level, 0xff, 0xe0, 0. */
const avcc = (profile: number, compat: number, level: number) =>
  Buffer.from([1, profile, compat, level, 0xff, 0xe0, 0]);
const video = (codec: 'h264' | 'h265' | 'av1' | 'vp9', config?: Buffer): Track => ({
  kind: 'video',
  codec,
  config,
  width: 320,
  height: 240,
});
const audio = (codec: 'aac' | 'mp3' | 'opus', config?: Buffer, sampleRate = 44100): Track => ({
  kind: 'audio',
  codec,
  config,
  sampleRate,
  channels: 2,
});

// hvcC of FFmpeg's libx265 at 320x240 (as in h265/hevc-config.test.ts): Main, level 2 (idc 60).
const HVCC_320x240 = Buffer.from(
  '0101600000009000000000003cf000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003003c959809a1000100' +
    '2a42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003210a2000100074401c172b46240',
  'hex',
);

const cases: [string, Track, CodecDetails][] = [
  [
    'H.264 High 4.0',
    video('h264', avcc(100, 0, 40)),
    { codecString: 'avc1.640028', profile: 'High', level: '4.0' },
  ],
  [
    'H.264 High 3.1',
    video('h264', avcc(100, 0, 31)),
    { codecString: 'avc1.64001f', profile: 'High', level: '3.1' },
  ],
  [
    'H.264 Constrained Baseline 3.0',
    video('h264', avcc(66, 0xc0, 30)),
    { codecString: 'avc1.42c01e', profile: 'Constrained Baseline', level: '3.0' },
  ],
  [
    'H.264 Baseline level 1b',
    video('h264', avcc(66, 0x10, 11)),
    { codecString: 'avc1.42100b', profile: 'Baseline', level: '1b' },
  ],
  [
    'H.265 Main 2.0',
    video('h265', HVCC_320x240),
    { codecString: 'hvc1.1.6.L60.90', profile: 'Main', level: '2.0' },
  ],
  ['H.264 without avcC', video('h264'), {}],
  ['H.264 with a broken avcC', video('h264', Buffer.from([2, 0, 0])), {}],
  [
    'AV1 Main 4.0 8-bit',
    video('av1', Buffer.from([0x81, 0x08, 0x0c, 0x00])),
    { codecString: 'av01.0.08M.08', profile: 'Main', level: '4.0' },
  ],
  [
    'VP9 profile 0 level 3.1 8-bit',
    video('vp9', Buffer.from([0, 31, 0x80])),
    { codecString: 'vp09.00.31.08', profile: 'Profile 0', level: '3.1' },
  ],
  ['AAC LC', audio('aac', Buffer.from('1210', 'hex')), { codecString: 'mp4a.40.2', profile: 'LC' }],
  ['HE-AAC', audio('aac', Buffer.from('2b118800', 'hex')), { codecString: 'mp4a.40.5', profile: 'HE-AAC' }],
  ['MP3 44.1 kHz (MPEG-1)', audio('mp3'), { codecString: 'mp4a.6B' }],
  ['MP3 22.05 kHz (MPEG-2 LSF)', audio('mp3', undefined, 22050), { codecString: 'mp4a.69' }],
  ['Opus', audio('opus'), { codecString: 'opus' }],
];

for (const [name, track, want] of cases) {
  test(`codecDetails: ${name}`, () => assert.deepEqual(codecDetails(track), want));
}
