import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { encodeAmf0 } from '../../../../src/formats/amf/amf0.js';
import { type FlvDemuxEvent, FlvToFrames } from '../../../../src/formats/flv/flv-to-frame.js';
import { MAX_METADATA_BYTES } from '../../../../src/formats/flv/script-tag.js';
import { FlvTagType } from '../../../../src/formats/flv/tag.js';
import type { MediaFrame } from '../../../../src/media/frame.js';
import type { Track } from '../../../../src/media/track.js';
import { metadataSelfReference, setDataFrameReferenceBomb } from '../../../helpers/hostile-amf.js';

const SPS = '6764000dacd94141fb011000000300100000030320f1429960';
const AVCC = `0164000dffe10019${SPS}01000668ebe3cb22c0fdf8f800`;
const HVCC =
  '0101600000009000000000003cf000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003003c959809a1000100' +
  '2a42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003210a2000100074401c172b46240';
const OPUS_HEAD = '4f707573486561640102380180bb0000000000';

const video = (hex: string) => ({ type: FlvTagType.Video, timestamp: 0, body: Buffer.from(hex, 'hex') });
const audio = (hex: string) => ({ type: FlvTagType.Audio, timestamp: 0, body: Buffer.from(hex, 'hex') });

function track(events: FlvDemuxEvent[]): Track {
  assert.equal(events.length, 1);
  assert.equal(events[0].kind, 'track');
  return (events[0] as { track: Track }).track;
}

function frame(events: FlvDemuxEvent[]): MediaFrame {
  const last = events[events.length - 1];
  assert.equal(last.kind, 'frame');
  return (last as { frame: MediaFrame }).frame;
}

test('AVC: sequence header → h264 track sized from its SPS; NALU with signed composition time', () => {
  const d = new FlvToFrames();
  const t = track(d.push(video(`1700000000${AVCC}`), 1000));
  assert.deepEqual(
    { ...t, config: t.kind === 'video' ? t.config?.toString('hex') : '' },
    {
      kind: 'video',
      codec: 'h264',
      config: AVCC,
      width: 320,
      height: 240,
    },
  );
  const key = frame(d.push(video('1701000050000000020910'), 1000));
  assert.deepEqual([key.dts, key.pts, key.keyframe, key.track], [1000, 1080, true, t]);
  assert.deepEqual(key.data, Buffer.from('000000020910', 'hex'));
  const neg = frame(d.push(video('2701ffffd8aa'), 1040));
  assert.deepEqual([neg.dts, neg.pts, neg.keyframe], [1040, 1000, false], 'cts -40 (SI24)');
  assert.deepEqual(d.push(video('1702000000'), 2000), [], 'end of sequence is ignored');
  assert.deepEqual(
    d.push(video(`1700000000${AVCC}`), 2000),
    [],
    'an identical sequence header is no new track',
  );
});

test('AAC: sequence header → track from the AudioSpecificConfig; raw frames are keyframes', () => {
  const d = new FlvToFrames();
  const t = track(d.push(audio('af001210'), 0));
  assert.equal(t.kind === 'audio' && t.codec, 'aac');
  assert.deepEqual([t.kind === 'audio' && t.sampleRate, t.kind === 'audio' && t.channels], [44100, 2]);
  const f = frame(d.push(audio('af01211a'), 23));
  assert.deepEqual([f.dts, f.pts, f.keyframe, f.data.toString('hex')], [23, 23, true, '211a']);
});

test('frames before their sequence header are dropped and counted', () => {
  const d = new FlvToFrames();
  assert.deepEqual(d.push(audio('af01211a'), 0), []);
  assert.deepEqual(d.push(video('1701000000aa'), 0), []);
  assert.equal(d.dropped, 2);
});

test('MP3: track from the header flags on the first frame, a new one when the byte changes', () => {
  const d = new FlvToFrames();
  const first = d.push(audio('2fffe3'), 0); // MP3, 44 kHz, 16-bit, stereo
  assert.equal(first.length, 2);
  const t = (first[0] as { track: Track }).track;
  assert.deepEqual(t, { kind: 'audio', codec: 'mp3', sampleRate: 44100, channels: 2, flvAudioHeader: 0x2f });
  assert.equal(d.push(audio('2fffe3'), 26).length, 1, 'same header, same track');
  const changed = d.push(audio('2afffb'), 52); // 22 kHz mono
  assert.deepEqual((changed[0] as { track: Track }).track, {
    kind: 'audio',
    codec: 'mp3',
    sampleRate: 22050,
    channels: 1,
    flvAudioHeader: 0x2a,
  });
  const mp3At8k = track(d.push(audio('e2ff'), 78).slice(0, 1));
  assert.deepEqual([mp3At8k.kind === 'audio' && mp3At8k.sampleRate], [8000]);
});

test('legacy codecs pass through with their header byte / codec id', () => {
  const d = new FlvToFrames();
  const v = d.push(video('12abcdef'), 0); // key frame, Sorenson H.263
  assert.deepEqual((v[0] as { track: Track }).track, {
    kind: 'video',
    codec: 'legacy',
    width: 0,
    height: 0,
    legacyCodecId: 2,
  });
  assert.deepEqual([frame(v).keyframe, frame(v).data.toString('hex')], [true, 'abcdef']);
  assert.equal(frame(d.push(video('22abcd'), 40)).keyframe, false);
  const a = d.push(audio('7e0102'), 0); // G.711 A-law
  assert.deepEqual((a[0] as { track: Track }).track, {
    kind: 'audio',
    codec: 'legacy',
    sampleRate: 8000,
    channels: 1,
    flvAudioHeader: 0x7e,
  });
  assert.deepEqual(d.push(video('5200'), 0), [], 'video info/command frames are dropped');
});

test('Enhanced RTMP hvc1: SequenceStart, CodedFrames with SI24 cts, CodedFramesX', () => {
  const d = new FlvToFrames();
  const t = track(d.push(video(`9068766331${HVCC}`), 0));
  assert.deepEqual(
    [t.kind === 'video' && t.codec, t.kind === 'video' && t.width, t.kind === 'video' && t.height],
    ['h265', 320, 240],
  );
  const key = frame(d.push(video('916876633100003c00000001aa'), 100));
  assert.deepEqual(
    [key.dts, key.pts, key.keyframe, key.data.toString('hex')],
    [100, 160, true, '00000001aa'],
  );
  const x = frame(d.push(video('a36876633100000001bb'), 140));
  assert.deepEqual([x.dts, x.pts, x.keyframe, x.data.toString('hex')], [140, 140, false, '00000001bb']);
  assert.deepEqual(d.push(video('9268766331'), 200), [], 'SequenceEnd is ignored');
});

test('Enhanced RTMP av01 / vp09: CodedFrames carry no composition time; ModEx is skipped', () => {
  const d = new FlvToFrames();
  const av1 = track(d.push(video('90617630318100000a0b00000008'), 0));
  assert.equal(av1.kind === 'video' && av1.codec, 'av1');
  assert.deepEqual(frame(d.push(video('9161763031120000'), 0)).data, Buffer.from('120000', 'hex'));
  // ModEx: size 3 (UI8 2), TimestampOffsetNano 0x000f42, then type 0 | CodedFrames.
  const viaModEx = frame(d.push(video('9702000f420161763031abcd'), 40));
  assert.deepEqual([viaModEx.keyframe, viaModEx.data.toString('hex')], [true, 'abcd']);
  const vp9 = track(d.push(video('907670303901000000'), 80));
  assert.equal(vp9.kind === 'video' && vp9.codec, 'vp9');
});

test('Enhanced RTMP audio: Opus and mp4a', () => {
  const d = new FlvToFrames();
  const opus = track(d.push(audio(`904f707573${OPUS_HEAD}`), 0));
  assert.deepEqual(
    [opus.kind === 'audio' && opus.codec, opus.kind === 'audio' && opus.sampleRate],
    ['opus', 48000],
  );
  assert.equal(opus.kind === 'audio' && opus.channels, 2);
  assert.deepEqual(frame(d.push(audio('914f707573fc00'), 20)).data, Buffer.from('fc00', 'hex'));
  const aac = track(d.push(audio('906d7034611190'), 40));
  assert.deepEqual(
    [aac.kind === 'audio' && aac.codec, aac.kind === 'audio' && aac.sampleRate],
    ['aac', 48000],
  );
});

test('script data: @setDataFrame + onMetaData → metadata with the body from "onMetaData"', () => {
  const d = new FlvToFrames();
  const inner = encodeAmf0('onMetaData', { width: 320, height: 240, encoder: 'Lavf' });
  const body = Buffer.concat([encodeAmf0('@setDataFrame'), inner]);
  const events = d.push({ type: FlvTagType.Script, timestamp: 0, body }, 0);
  assert.deepEqual(events, [
    { kind: 'metadata', values: { width: 320, height: 240, encoder: 'Lavf' }, body: inner },
  ]);
  const direct = d.push({ type: FlvTagType.Script, timestamp: 0, body: inner }, 0);
  assert.deepEqual(direct[0], {
    kind: 'metadata',
    values: { width: 320, height: 240, encoder: 'Lavf' },
    body: inner,
  });
  const cue = encodeAmf0('onCuePoint', { name: 'x' });
  assert.deepEqual(d.push({ type: FlvTagType.Script, timestamp: 0, body: cue }, 0), []);
});

test('onMetaData over the bounds is dropped and counted; the next tags go on', () => {
  const d = new FlvToFrames();
  const script = (body: Buffer) => ({ type: FlvTagType.Script, timestamp: 0, body });
  assert.deepEqual(d.push(script(setDataFrameReferenceBomb(30)), 0), []);
  assert.deepEqual(d.push(script(metadataSelfReference()), 0), []);
  const big = encodeAmf0('onMetaData', { pad: 'x'.repeat(MAX_METADATA_BYTES) });
  assert.deepEqual(d.push(script(big), 0), []);
  assert.equal(d.droppedMetadata.count, 3);
  assert.match(
    d.droppedMetadata.lastReason,
    /^ERR_AMF_LIMIT: onMetaData of \d+ bytes is over the limit of 65536/,
  );
  // Other script data of any size is not metadata: ignored, not counted.
  assert.deepEqual(d.push(script(encodeAmf0('onTextData', { pad: 'x'.repeat(MAX_METADATA_BYTES) })), 0), []);
  assert.equal(d.droppedMetadata.count, 3);
  assert.equal(track(d.push(video(`1700000000${AVCC}`), 0)).kind, 'video');
  assert.equal(d.push(script(encodeAmf0('onMetaData', { width: 1 })), 0)[0]?.kind, 'metadata');
});

test('unsupported codecs and malformed packets throw coded errors naming the supported set', () => {
  const d = new FlvToFrames();
  assert.throws(
    () => d.push(video('1c00000000'), 0),
    (e) =>
      isEstuaryError(e, 'ERR_CODEC_UNSUPPORTED') &&
      /video codec id 12 .*supported: H\.264 \(7\)/.test(e.message),
  );
  assert.throws(
    () => d.push(video('9078787878'), 0),
    (e) => isEstuaryError(e, 'ERR_CODEC_UNSUPPORTED') && /'xxxx'/.test(e.message),
  );
  assert.throws(
    () => d.push(audio('c0'), 0),
    (e) => isEstuaryError(e, 'ERR_CODEC_UNSUPPORTED') && /SoundFormat 12/.test(e.message),
  );
  assert.throws(
    () => d.push(audio('af'), 0),
    (e) => isEstuaryError(e, 'ERR_FLV_FORMAT'),
  );
  assert.throws(
    () => d.push(video('1703000000'), 0),
    (e) => isEstuaryError(e, 'ERR_FLV_FORMAT'),
  );
  assert.throws(
    () => d.push(video('17000000000164'), 0),
    (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
  );
  assert.throws(
    () => d.push(video('9668766331'), 0),
    (e) => isEstuaryError(e, 'ERR_CODEC_UNSUPPORTED'),
    'multitrack',
  );
});
