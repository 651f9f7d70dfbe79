/** RFC 6381 codec strings from each codec's configuration, against the specs' own examples. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codecString } from '../../../src/codecs/codec-string.js';
import { hevcCodecString } from '../../../src/codecs/h265/codec-string.js';
import type { AudioTrack, VideoTrack } from '../../../src/media/track.js';
import { AVCC_CONFIG, hvccConfig } from '../formats/mpegts/ts-test-helpers.js';

const video = (codec: VideoTrack['codec'], config: Buffer): VideoTrack => ({
  kind: 'video',
  codec,
  config,
  width: 0,
  height: 0,
});
const audio = (codec: AudioTrack['codec'], config?: Buffer, sampleRate = 44100): AudioTrack => ({
  kind: 'audio',
  codec,
  config,
  sampleRate,
  channels: 2,
});

test('H.265: ISO/IEC 14496-15 E.5 examples', () => {
  const base = {
    generalProfileSpace: 0,
    generalTierFlag: 0,
    generalConstraintIndicatorFlags: Buffer.from([0xb0, 0, 0, 0, 0, 0]),
  };
  // Main profile (compatibility flags 1 and 2), level 3.1 (93), progressive, no other constraint.
  assert.equal(
    hevcCodecString(
      { ...base, generalProfileIdc: 1, generalProfileCompatibilityFlags: 0x60000000, generalLevelIdc: 93 },
      'hev1',
    ),
    'hev1.1.6.L93.B0',
  );
  // Main 10 (compatibility flag 2), high tier, level 4 (120).
  assert.equal(
    hevcCodecString({
      ...base,
      generalProfileIdc: 2,
      generalTierFlag: 1,
      generalProfileCompatibilityFlags: 0x20000000,
      generalLevelIdc: 120,
    }),
    'hvc1.2.4.H120.B0',
  );
});

test('codecString per codec', () => {
  const cases: [string, VideoTrack | AudioTrack, string | undefined][] = [
    // avcC profile 0x42 (Baseline), compatibility 0xC0, level 0x1E (3.0).
    ['H.264', video('h264', AVCC_CONFIG), 'avc1.42c01e'],
    // The hvcC the TS tests use: Main, compatibility 0x60000000, level 30, constraint 0x90.
    ['H.265', video('h265', hvccConfig()), 'hvc1.1.6.L30.90'],
    // av1C: marker/version 0x81, profile 0 level 8 (0x08), tier 0, 8-bit.
    ['AV1', video('av1', Buffer.from([0x81, 0x08, 0x0c, 0x00])), 'av01.0.08M.08'],
    // AV1 Main profile, level 5.1 (13), high tier, 10-bit: the binding's own example av01.0.13H.10.
    ['AV1 10-bit', video('av1', Buffer.from([0x81, 0x0d, 0xc0, 0x00])), 'av01.0.13H.10'],
    // VPCodecConfigurationRecord: profile 0, level 31 (3.1), bit depth 8 (0x8 << 4).
    ['VP9', video('vp9', Buffer.from([0x00, 31, 0x80, 0x02, 0x02, 0x02, 0x00, 0x00])), 'vp09.00.31.08'],
    // AudioSpecificConfig 0x1210: AAC-LC (2).
    ['AAC-LC', audio('aac', Buffer.from([0x12, 0x10])), 'mp4a.40.2'],
    ['MP3', audio('mp3'), 'mp4a.6B'],
    ['MP3 at 22.05 kHz (MPEG-2)', audio('mp3', undefined, 22050), 'mp4a.69'],
    ['Opus', audio('opus', Buffer.alloc(19)), 'opus'],
    ['H.264 without a configuration', video('h264', Buffer.alloc(0)), undefined],
  ];
  for (const [name, track, want] of cases) assert.equal(codecString(track), want, name);
});
