import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseH264Sps } from '../../../../src/codecs/h264/sps.js';
import { isEstuaryError } from '../../../../src/errors.js';

// Real SPS NAL units from libx264 (-profile:v high, 25 fps), which carry emulation prevention bytes.
export const SPS_320x240_HIGH = Buffer.from('6764000dacd94141fb011000000300100000030320f1429960', 'hex');
export const SPS_1920x1080_HIGH = Buffer.from(
  '67640028acd940780227e5c044000003000400000300c83c60c658',
  'hex',
);
// libx264 Constrained Baseline (66) 640x480 at 30 fps: no chroma_format_idc / scaling fields.
const SPS_640x480_BASELINE = Buffer.from('6742c01ed900a03db0110000030001000003003c0f162e48', 'hex');

const cases: [string, Buffer, { profileIdc: number; levelIdc: number; width: number; height: number }][] = [
  ['x264 320x240 High', SPS_320x240_HIGH, { profileIdc: 100, levelIdc: 13, width: 320, height: 240 }],
  [
    'x264 1920x1080 High, cropped from 1088',
    SPS_1920x1080_HIGH,
    { profileIdc: 100, levelIdc: 40, width: 1920, height: 1080 },
  ],
];

test('parseH264Sps: size, profile and level of real SPS', () => {
  for (const [name, nal, want] of cases) {
    const info = parseH264Sps(nal);
    assert.equal(info.profileIdc, want.profileIdc, name);
    assert.equal(info.levelIdc, want.levelIdc, name);
    assert.equal(info.width, want.width, name);
    assert.equal(info.height, want.height, name);
    assert.equal(info.chromaFormatIdc, 1, name);
    assert.equal(info.bitDepthLuma, 8, name);
    assert.equal(info.frameRate, 25, name);
  }
});

test('parseH264Sps: Baseline SPS without the high-profile fields', () => {
  const info = parseH264Sps(SPS_640x480_BASELINE);
  assert.equal(info.profileIdc, 66);
  assert.equal(info.constraintFlags, 0xc0);
  assert.equal(info.width, 640);
  assert.equal(info.height, 480);
  assert.equal(info.frameRate, 30);
});

test('parseH264Sps: truncated or wrong NAL units throw ERR_CODEC_CONFIG', () => {
  // Up to byte 9 the picture size is not complete yet; later cuts only lose the (optional) VUI.
  for (let len = 0; len < 9; len++) {
    assert.throws(
      () => parseH264Sps(SPS_320x240_HIGH.subarray(0, len)),
      (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
      `length ${len}`,
    );
  }
  assert.throws(
    () => parseH264Sps(Buffer.from('68ebe3cb22c0', 'hex')),
    (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
  );
  const cutVui = parseH264Sps(SPS_320x240_HIGH.subarray(0, 12));
  assert.equal(cutVui.width, 320);
  assert.equal(cutVui.frameRate, undefined);
});
