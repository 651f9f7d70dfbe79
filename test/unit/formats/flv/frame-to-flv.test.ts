import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { decodeAmf0 } from '../../../../src/formats/amf/amf0.js';
import { type FlvDemuxEvent, FlvToFrames } from '../../../../src/formats/flv/flv-to-frame.js';
import {
  audioSequenceHeaderBody,
  flvTagTypeOf,
  frameToFlvBody,
  metadataBody,
  videoSequenceHeaderBody,
} from '../../../../src/formats/flv/frame-to-flv.js';
import { FlvTagType } from '../../../../src/formats/flv/tag.js';
import type { MediaFrame } from '../../../../src/media/frame.js';
import type { AudioTrack, Track, VideoTrack } from '../../../../src/media/track.js';

const AVCC = Buffer.from(
  '0164000dffe100196764000dacd94141fb011000000300100000030320f1429960010006' + '68ebe3cb22c0fdf8f800',
  'hex',
);
const HVCC = Buffer.from(
  '0101600000009000000000003cf000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003003c959809a1000100' +
    '2a42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003210a2000100074401c172b46240',
  'hex',
);

const H264: VideoTrack = { kind: 'video', codec: 'h264', config: AVCC, width: 320, height: 240 };
const H265: VideoTrack = { kind: 'video', codec: 'h265', config: HVCC, width: 320, height: 240 };
const AV1: VideoTrack = {
  kind: 'video',
  codec: 'av1',
  config: Buffer.from('81000c00', 'hex'),
  width: 0,
  height: 0,
};
const VP9: VideoTrack = {
  kind: 'video',
  codec: 'vp9',
  config: Buffer.from('01000000', 'hex'),
  width: 0,
  height: 0,
};
const AAC: AudioTrack = {
  kind: 'audio',
  codec: 'aac',
  config: Buffer.from('1210', 'hex'),
  sampleRate: 44100,
  channels: 2,
};
const OPUS: AudioTrack = {
  kind: 'audio',
  codec: 'opus',
  config: Buffer.from('4f707573486561640102380180bb0000000000', 'hex'),
  sampleRate: 48000,
  channels: 2,
};
const MP3: AudioTrack = { kind: 'audio', codec: 'mp3', sampleRate: 44100, channels: 2, flvAudioHeader: 0x2f };
const LEGACY_V: VideoTrack = { kind: 'video', codec: 'legacy', width: 0, height: 0, legacyCodecId: 4 };
const LEGACY_A: AudioTrack = {
  kind: 'audio',
  codec: 'legacy',
  sampleRate: 8000,
  channels: 1,
  flvAudioHeader: 0x7e,
};

const f = (track: Track, dts: number, pts: number, keyframe: boolean, hex: string): MediaFrame => ({
  track,
  dts,
  pts,
  keyframe,
  data: Buffer.from(hex, 'hex'),
});

test('sequence header bodies', () => {
  assert.deepEqual(videoSequenceHeaderBody(H264), Buffer.concat([Buffer.from('1700000000', 'hex'), AVCC]));
  assert.deepEqual(videoSequenceHeaderBody(H265), Buffer.concat([Buffer.from('9068766331', 'hex'), HVCC]));
  assert.deepEqual(videoSequenceHeaderBody(AV1)?.subarray(0, 5), Buffer.from('9061763031', 'hex'));
  assert.deepEqual(videoSequenceHeaderBody(VP9)?.subarray(0, 5), Buffer.from('9076703039', 'hex'));
  assert.equal(videoSequenceHeaderBody(LEGACY_V), undefined);
  assert.deepEqual(audioSequenceHeaderBody(AAC), Buffer.from('af001210', 'hex'));
  assert.deepEqual(audioSequenceHeaderBody(OPUS)?.subarray(0, 5), Buffer.from('904f707573', 'hex'));
  assert.equal(audioSequenceHeaderBody(MP3), undefined);
});

test('frame bodies: classic headers for H.264/AAC/MP3/legacy, Enhanced RTMP for the rest', () => {
  const cases: [MediaFrame, string][] = [
    [f(H264, 1000, 1080, true, '00000002aabb'), '170100005000000002aabb'],
    [f(H264, 1040, 1000, false, 'cc'), '2701ffffd8cc'],
    [f(H265, 0, 80, true, 'dd'), '9168766331000050dd'],
    [f(H265, 40, 40, false, 'ee'), 'a368766331ee'],
    [f(AV1, 0, 0, true, '12'), '916176303112'],
    [f(VP9, 0, 0, false, '34'), 'a17670303934'],
    [f(AAC, 0, 0, true, '211a'), 'af01211a'],
    [f(OPUS, 0, 0, true, 'fc'), '914f707573fc'],
    [f(MP3, 0, 0, true, 'fffb'), '2ffffb'],
    [f(LEGACY_V, 0, 0, true, '0011'), '140011'],
    [f(LEGACY_A, 0, 0, true, 'd5'), '7ed5'],
  ];
  for (const [frame, hex] of cases)
    assert.equal(frameToFlvBody(frame).toString('hex'), hex, `${frame.track.codec}`);
  assert.equal(flvTagTypeOf(cases[0][0]), FlvTagType.Video);
  assert.equal(flvTagTypeOf(cases[6][0]), FlvTagType.Audio);
});

test('a composition time outside SI24 is rejected', () => {
  assert.throws(
    () => frameToFlvBody(f(H264, 0, 0x800000, true, '')),
    (e) => isEstuaryError(e, 'ERR_FLV_FORMAT'),
  );
});

test('round trip: flv-to-frame(frame-to-flv(x)) gives x back', () => {
  const frames = [
    f(H264, 1000, 1080, true, '00000002aabb'),
    f(H264, 1040, 1000, false, 'cc'),
    f(H265, 0, 80, true, '00000001dd'),
    f(H265, 40, 40, false, '00000001ee'),
    f(AV1, 0, 0, true, '12'),
    f(VP9, 0, 0, false, '34'),
    f(AAC, 0, 0, true, '211a'),
    f(OPUS, 20, 20, true, 'fc'),
    f(MP3, 0, 0, true, 'fffb'),
    f(LEGACY_V, 0, 0, true, '0011'),
    f(LEGACY_A, 0, 0, true, 'd5'),
  ];
  for (const x of frames) {
    const demux = new FlvToFrames();
    const type = flvTagTypeOf(x);
    const header =
      x.track.kind === 'video' ? videoSequenceHeaderBody(x.track) : audioSequenceHeaderBody(x.track);
    const events: FlvDemuxEvent[] = [];
    if (header) events.push(...demux.push({ type, timestamp: x.dts, body: header }, x.dts));
    events.push(...demux.push({ type, timestamp: x.dts, body: frameToFlvBody(x) }, x.dts));
    const got = events.find((e) => e.kind === 'frame');
    assert.ok(got && got.kind === 'frame', x.track.codec);
    assert.deepEqual(got.frame, x, x.track.codec);
  }
});

test('metadataBody: "onMetaData" + ECMA array', () => {
  const body = metadataBody({ width: 320, height: 240, videocodecid: 7 });
  assert.equal(body[0], 0x02);
  assert.equal(body[13], 0x08, 'ECMA array marker after the 13-byte string');
  assert.deepEqual(decodeAmf0(body), ['onMetaData', { width: 320, height: 240, videocodecid: 7 }]);
  const events = new FlvToFrames().push({ type: FlvTagType.Script, timestamp: 0, body }, 0);
  assert.deepEqual(events, [
    { kind: 'metadata', values: { width: 320, height: 240, videocodecid: 7 }, body },
  ]);
});
