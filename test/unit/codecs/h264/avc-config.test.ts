import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAvcConfig, parseAvcConfig } from '../../../../src/codecs/h264/avc-config.js';
import { avcCodecString } from '../../../../src/codecs/h264/codec-string.js';
import { isEstuaryError } from '../../../../src/errors.js';

const SPS = Buffer.from('6764000dacd94141fb011000000300100000030320f1429960', 'hex');
const PPS = Buffer.from('68ebe3cb22c0', 'hex');
// avcC as FFmpeg's FLV muxer wrote it for this SPS/PPS, with the High-profile trailer
// (chroma_format 1, 8-bit luma and chroma, no SPS extensions: fd f8 f8 00).
const AVCC = Buffer.concat([
  Buffer.from('0164000dffe10019', 'hex'),
  SPS,
  Buffer.from('010006', 'hex'),
  PPS,
  Buffer.from('fdf8f800', 'hex'),
]);

test('parseAvcConfig reads profile, level, length size and parameter sets', () => {
  const c = parseAvcConfig(AVCC);
  assert.equal(c.profile, 100);
  assert.equal(c.compatibility, 0);
  assert.equal(c.level, 13);
  assert.equal(c.lengthSize, 4);
  assert.deepEqual(c.sps, [SPS]);
  assert.deepEqual(c.pps, [PPS]);
});

test('parseAvcConfig tolerates a record without the high-profile trailer', () => {
  const c = parseAvcConfig(AVCC.subarray(0, AVCC.length - 4));
  assert.deepEqual(c.pps, [PPS]);
});

test('buildAvcConfig builds the same bytes as FFmpeg', () => {
  assert.deepEqual(buildAvcConfig([SPS], [PPS]), AVCC);
  const baseline = Buffer.from('6742c01ed900a03db0110000030001000003003c0f162e48', 'hex');
  const built = buildAvcConfig([baseline], [PPS]);
  assert.deepEqual(built.subarray(0, 6), Buffer.from('0142c01effe1', 'hex'));
  assert.equal(built.length, 6 + 2 + baseline.length + 1 + 2 + PPS.length, 'no trailer below High profile');
});

test('parseAvcConfig rejects malformed records', () => {
  const bad = (b: Buffer, why: string) =>
    assert.throws(
      () => parseAvcConfig(b),
      (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
      why,
    );
  bad(Buffer.from('0164', 'hex'), 'too short');
  bad(Buffer.from('0264000dffe100', 'hex'), 'version 2');
  bad(Buffer.from('0164000dfee100', 'hex'), '3-byte lengths');
  bad(Buffer.from('0164000dffe1ffff00', 'hex'), 'SPS length past the end');
  bad(AVCC.subarray(0, 8 + SPS.length), 'missing PPS count');
  bad(AVCC.subarray(0, 8 + SPS.length + 4), 'truncated PPS');
});

test('avcCodecString follows RFC 6381', () => {
  assert.equal(avcCodecString(parseAvcConfig(AVCC)), 'avc1.64000d');
  assert.equal(avcCodecString({ profile: 0x64, compatibility: 0, level: 0x1f }), 'avc1.64001f');
  assert.equal(avcCodecString({ profile: 66, compatibility: 0xc0, level: 30 }), 'avc1.42c01e');
});
