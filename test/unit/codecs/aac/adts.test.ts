import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAdtsHeader, parseAdtsFrames, parseAdtsHeader } from '../../../../src/codecs/aac/adts.js';
import { parseAudioSpecificConfig } from '../../../../src/codecs/aac/audio-specific-config.js';
import { isEstuaryError } from '../../../../src/errors.js';
import { BitReader } from '../../../../src/util/bit-reader.js';

const LC_44100_STEREO = parseAudioSpecificConfig(Buffer.from('1210', 'hex'));

test('buildAdtsHeader: every field of ISO/IEC 14496-3 1.A.2.2', () => {
  const h = buildAdtsHeader(LC_44100_STEREO, 100);
  assert.equal(h.length, 7);
  // fff1 = sync, MPEG-4, no CRC; 50 80 = LC, 44.1 kHz, 2 ch; 0d 7f fc = length 107, VBR.
  assert.deepEqual(h, Buffer.from('fff150800d7ffc', 'hex'));
  const r = new BitReader(h);
  assert.equal(r.readBits(12), 0xfff, 'syncword');
  assert.equal(r.readBits(1), 0, 'ID = MPEG-4');
  assert.equal(r.readBits(2), 0, 'layer');
  assert.equal(r.readBits(1), 1, 'protection_absent');
  assert.equal(r.readBits(2), 1, 'profile_ObjectType = AAC LC - 1');
  assert.equal(r.readBits(4), 4, 'sampling_frequency_index 44100');
  assert.equal(r.readBits(1), 0, 'private_bit');
  assert.equal(r.readBits(3), 2, 'channel_configuration');
  assert.equal(r.readBits(1), 0, 'original_copy');
  assert.equal(r.readBits(1), 0, 'home');
  assert.equal(r.readBits(2), 0, 'copyright bits');
  assert.equal(r.readBits(13), 107, 'aac_frame_length includes the header');
  assert.equal(r.readBits(11), 0x7ff, 'buffer fullness VBR');
  assert.equal(r.readBits(2), 0, 'one raw data block');
});

test('buildAdtsHeader rejects what ADTS cannot carry', () => {
  const bad = (f: () => unknown) => assert.throws(f, (e) => isEstuaryError(e, 'ERR_CODEC_UNSUPPORTED'));
  bad(() => buildAdtsHeader(LC_44100_STEREO, 8191));
  bad(() => buildAdtsHeader({ ...LC_44100_STEREO, objectType: 5 }, 10));
  bad(() => buildAdtsHeader({ ...LC_44100_STEREO, sampleRateIndex: 15 }, 10));
});

test('parseAdtsFrames splits frames and reads the config back', () => {
  const a = Buffer.from([1, 2, 3]);
  const b = Buffer.from([4, 5]);
  const stream = Buffer.concat([
    buildAdtsHeader(LC_44100_STEREO, 3),
    a,
    buildAdtsHeader(LC_44100_STEREO, 2),
    b,
  ]);
  const { config, frames } = parseAdtsFrames(stream);
  assert.deepEqual(frames, [a, b]);
  assert.equal(config.objectType, 2);
  assert.equal(config.sampleRate, 44100);
  assert.equal(config.channels, 2);
});

test('parseAdtsHeader skips the CRC when protection_absent is 0', () => {
  const h = Buffer.from(buildAdtsHeader(LC_44100_STEREO, 5));
  h[1] &= 0xfe; // protection_absent = 0: 2 CRC bytes follow
  const parsed = parseAdtsHeader(Buffer.concat([h, Buffer.alloc(2), Buffer.alloc(3)]));
  assert.equal(parsed.headerSize, 9);
  assert.equal(parsed.frameLength, 12);
});

test('parseAdtsFrames rejects truncated and unsynchronised input', () => {
  const bad = (b: Buffer) =>
    assert.throws(
      () => parseAdtsFrames(b),
      (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
    );
  bad(Buffer.alloc(0));
  bad(Buffer.from('fff150', 'hex'));
  bad(Buffer.concat([buildAdtsHeader(LC_44100_STEREO, 10), Buffer.alloc(4)]));
  bad(Buffer.from('00f15080007ffc', 'hex'));
  bad(Buffer.from('fff15080001ffc', 'hex')); // aac_frame_length 0 < header: would loop forever
});
