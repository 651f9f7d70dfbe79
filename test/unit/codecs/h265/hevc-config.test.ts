import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hevcCodecString, parseHevcConfig } from '../../../../src/codecs/h265/hevc-config.js';
import { HevcNaluType, hevcNaluType, isHevcIrap } from '../../../../src/codecs/h265/nalu.js';
import { isEstuaryError } from '../../../../src/errors.js';

// hvcC from libx265 (Main, level 2 / 4) in an FFmpeg-written MP4, keeping the VPS, SPS and PPS arrays.
const HVCC_320x240 = Buffer.from(
  '0101600000009000000000003cf000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003003c959809a1000100' +
    '2a42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003210a2000100074401c172b46240',
  'hex',
);
const HVCC_1920x1080 = Buffer.from(
  '01016000000090000000000078f000fcfdf8f800000f03a00001001840010c01ffff016000000300900000030000030078959809a1000100' +
    '2a420101016000000300900000030000030078a003c08010e596566924caf0168080000003008000000c84a2000100074401c172b46240',
  'hex',
);

test('parseHevcConfig reads the profile, level, parameter sets and SPS size', () => {
  const c = parseHevcConfig(HVCC_320x240);
  assert.equal(c.generalProfileIdc, 1);
  assert.equal(c.generalTierFlag, 0);
  assert.equal(c.generalLevelIdc, 60);
  assert.equal(c.lengthSize, 4);
  assert.equal(c.vps.length, 1);
  assert.equal(c.sps.length, 1);
  assert.equal(c.pps.length, 1);
  assert.equal(hevcNaluType(c.vps[0]), HevcNaluType.Vps);
  assert.equal(hevcNaluType(c.sps[0]), HevcNaluType.Sps);
  assert.equal(hevcNaluType(c.pps[0]), HevcNaluType.Pps);
  assert.equal(c.width, 320);
  assert.equal(c.height, 240);
});

test('parseHevcConfig applies the conformance window: 1080, not 1088', () => {
  const c = parseHevcConfig(HVCC_1920x1080);
  assert.equal(c.width, 1920);
  assert.equal(c.height, 1080);
  assert.equal(c.generalLevelIdc, 120);
});

test('hevcCodecString (ISO/IEC 14496-15 E.3)', () => {
  assert.equal(hevcCodecString(parseHevcConfig(HVCC_320x240)), 'hvc1.1.6.L60.90');
  assert.equal(hevcCodecString(parseHevcConfig(HVCC_1920x1080), 'hev1'), 'hev1.1.6.L120.90');
});

test('parseHevcConfig rejects truncated records at every length', () => {
  for (let len = 0; len < HVCC_320x240.length; len++) {
    assert.throws(
      () => parseHevcConfig(HVCC_320x240.subarray(0, len)),
      (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
      `length ${len}`,
    );
  }
});

test('HEVC NAL types: IRAP range 16..23', () => {
  assert.equal(isHevcIrap(19), true);
  assert.equal(isHevcIrap(21), true);
  assert.equal(isHevcIrap(1), false);
  assert.equal(isHevcIrap(32), false);
  assert.equal(hevcNaluType(Buffer.from([0x26, 0x01])), 19);
});
