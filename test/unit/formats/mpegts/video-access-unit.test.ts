import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { toAnnexBAccessUnit, videoParamsFor } from '../../../../src/formats/mpegts/video-access-unit.js';
import type { VideoTrack } from '../../../../src/media/track.js';
import {
  AVCC_CONFIG,
  annexB,
  avcc,
  H264_PPS,
  H264_SPS,
  HEVC_PPS,
  HEVC_SPS,
  HEVC_VPS,
  h264Track,
  hvccConfig,
} from './ts-test-helpers.js';

const AUD = Buffer.from('09f0', 'hex');
const IDR = Buffer.from('65888400', 'hex');
const SLICE = Buffer.from('419a0203', 'hex');
const SEI = Buffer.from('0605ff', 'hex');
const OTHER_SPS = Buffer.from('6742c01f', 'hex');
const OTHER_PPS = Buffer.from('68ee', 'hex');

const H264_CASES: { name: string; input: Buffer[]; keyframe: boolean; expected: Buffer[] }[] = [
  { name: 'IDR gets AUD, SPS, PPS', input: [IDR], keyframe: true, expected: [AUD, H264_SPS, H264_PPS, IDR] },
  { name: 'non-IDR slice gets only the AUD', input: [SLICE], keyframe: false, expected: [AUD, SLICE] },
  {
    name: 'IDR carrying its own SPS/PPS keeps them and gets no copies',
    input: [OTHER_SPS, OTHER_PPS, IDR],
    keyframe: true,
    expected: [AUD, OTHER_SPS, OTHER_PPS, IDR],
  },
  {
    name: 'an AUD already present is replaced by ours, first',
    input: [SEI, Buffer.from('0910', 'hex'), SLICE],
    keyframe: false,
    expected: [AUD, SEI, SLICE],
  },
  {
    name: 'parameter sets go after the AUD and before SEI',
    input: [SEI, IDR],
    keyframe: false,
    expected: [AUD, H264_SPS, H264_PPS, SEI, IDR],
  },
  {
    name: 'a keyframe without IDR (recovery point) still gets the parameter sets',
    input: [SLICE],
    keyframe: true,
    expected: [AUD, H264_SPS, H264_PPS, SLICE],
  },
  {
    name: 'zero-length NAL units are dropped',
    input: [Buffer.alloc(0), SLICE],
    keyframe: false,
    expected: [AUD, SLICE],
  },
];

for (const c of H264_CASES) {
  test(`H.264 AVCC → Annex B: ${c.name}`, () => {
    const params = videoParamsFor(h264Track);
    assert.deepEqual(toAnnexBAccessUnit(avcc(c.input), params, c.keyframe), annexB(c.expected));
  });
}

test('H.264 with 2-byte and 1-byte NAL lengths from the avcC', () => {
  for (const size of [1, 2] as const) {
    const config = Buffer.from(AVCC_CONFIG);
    config[4] = 0xfc | (size - 1);
    const params = videoParamsFor({ ...h264Track, config });
    assert.equal(params.lengthSize, size);
    const out = toAnnexBAccessUnit(avcc([IDR], size), params, true);
    assert.deepEqual(out, annexB([AUD, H264_SPS, H264_PPS, IDR]));
  }
});

test('a frame with no NAL units gives an empty buffer', () => {
  assert.equal(toAnnexBAccessUnit(Buffer.alloc(0), videoParamsFor(h264Track), true).length, 0);
});

test('truncated AVCC throws a coded error, never a RangeError', () => {
  const params = videoParamsFor(h264Track);
  const whole = avcc([IDR, SLICE]);
  for (let cut = 1; cut < whole.length; cut++) {
    try {
      toAnnexBAccessUnit(whole.subarray(0, cut), params, true);
    } catch (err) {
      assert.ok(isEstuaryError(err), `cut at ${cut}: ${String(err)}`);
    }
  }
  assert.throws(() => toAnnexBAccessUnit(Buffer.from([0, 0, 0, 9, 0x65]), params, true), isEstuaryError);
});

const HEVC_AUD = Buffer.from('460150', 'hex');
const HEVC_IDR = Buffer.from('2601af00', 'hex'); // nal_unit_type 19 (IDR_W_RADL)
const HEVC_CRA = Buffer.from('2a01af00', 'hex'); // nal_unit_type 21 (CRA)
const HEVC_TRAIL = Buffer.from('0201d000', 'hex'); // nal_unit_type 1 (TRAIL_R)

const H265_CASES: { name: string; input: Buffer[]; keyframe: boolean; expected: Buffer[] }[] = [
  {
    name: 'IDR gets AUD (type 35), VPS, SPS, PPS',
    input: [HEVC_IDR],
    keyframe: true,
    expected: [HEVC_AUD, HEVC_VPS, HEVC_SPS, HEVC_PPS, HEVC_IDR],
  },
  {
    name: 'CRA is an IRAP too',
    input: [HEVC_CRA],
    keyframe: false,
    expected: [HEVC_AUD, HEVC_VPS, HEVC_SPS, HEVC_PPS, HEVC_CRA],
  },
  {
    name: 'trailing picture gets only the AUD',
    input: [HEVC_TRAIL],
    keyframe: false,
    expected: [HEVC_AUD, HEVC_TRAIL],
  },
  {
    name: 'in-band parameter sets are kept, an old AUD dropped',
    input: [Buffer.from('460110', 'hex'), HEVC_VPS, HEVC_SPS, HEVC_PPS, HEVC_IDR],
    keyframe: true,
    expected: [HEVC_AUD, HEVC_VPS, HEVC_SPS, HEVC_PPS, HEVC_IDR],
  },
];

for (const c of H265_CASES) {
  test(`H.265 HVCC → Annex B: ${c.name}`, () => {
    const track: VideoTrack = { kind: 'video', codec: 'h265', config: hvccConfig(), width: 64, height: 64 };
    assert.deepEqual(
      toAnnexBAccessUnit(avcc(c.input), videoParamsFor(track), c.keyframe),
      annexB(c.expected),
    );
  });
}

test('video codecs MPEG-TS cannot carry, and missing configs, are refused with coded errors', () => {
  for (const codec of ['av1', 'vp9', 'legacy'] as const) {
    assert.throws(
      () => videoParamsFor({ kind: 'video', codec, width: 0, height: 0 }),
      (err) => isEstuaryError(err, 'ERR_CODEC_UNSUPPORTED') && /H\.264 and H\.265/.test(err.message),
    );
  }
  assert.throws(
    () => videoParamsFor({ ...h264Track, config: undefined }),
    (err) => isEstuaryError(err, 'ERR_CODEC_CONFIG'),
  );
  assert.throws(
    () => videoParamsFor({ ...h264Track, config: Buffer.from([1, 2]) }),
    (err) => isEstuaryError(err, 'ERR_CODEC_CONFIG'),
  );
});
