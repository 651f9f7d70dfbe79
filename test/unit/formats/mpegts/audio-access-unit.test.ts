import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { audioParamsFor, toAudioAccessUnit } from '../../../../src/formats/mpegts/audio-access-unit.js';
import type { AudioTrack } from '../../../../src/media/track.js';
import { aacTrack } from './ts-test-helpers.js';

test('AAC frames get a 7-byte ADTS header from the AudioSpecificConfig', () => {
  const params = audioParamsFor(aacTrack);
  assert.equal(params.streamType, 0x0f);
  const raw = Buffer.from('21100504', 'hex');
  // ISO/IEC 14496-3 1.A.2.2: syncword FFF, MPEG-4, no CRC, profile LC (1), rate index 4, 2 channels,
  // aac_frame_length 11 (7 + 4), buffer fullness 0x7FF, one raw data block.
  assert.equal(toAudioAccessUnit(raw, params).toString('hex'), 'fff15080017ffc21100504');
});

const MP3_CASES = [
  { sampleRate: 44100, streamType: 0x03 },
  { sampleRate: 48000, streamType: 0x03 },
  { sampleRate: 32000, streamType: 0x03 },
  { sampleRate: 22050, streamType: 0x04 },
  { sampleRate: 8000, streamType: 0x04 },
];

for (const c of MP3_CASES) {
  test(`MP3 at ${c.sampleRate} Hz is stream_type ${c.streamType} and passes through`, () => {
    const track: AudioTrack = { kind: 'audio', codec: 'mp3', sampleRate: c.sampleRate, channels: 2 };
    const params = audioParamsFor(track);
    assert.equal(params.streamType, c.streamType);
    const frame = Buffer.from('fffb9064', 'hex');
    assert.equal(toAudioAccessUnit(frame, params), frame);
  });
}

test('audio codecs MPEG-TS cannot carry, and bad configs, are refused with coded errors', () => {
  for (const codec of ['opus', 'legacy'] as const) {
    assert.throws(
      () => audioParamsFor({ kind: 'audio', codec, sampleRate: 48000, channels: 2 }),
      (err) => isEstuaryError(err, 'ERR_CODEC_UNSUPPORTED') && /AAC and MP3/.test(err.message),
    );
  }
  assert.throws(
    () => audioParamsFor({ ...aacTrack, config: undefined }),
    (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
  );
  // Object type 6 (AAC scalable) has no 2-bit ADTS profile.
  assert.throws(
    () => audioParamsFor({ ...aacTrack, config: Buffer.from([0x32, 0x10]) }),
    (err) => isEstuaryError(err, 'ERR_CODEC_UNSUPPORTED'),
  );
});
