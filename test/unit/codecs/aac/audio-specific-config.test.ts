import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  aacCodecString,
  buildAudioSpecificConfig,
  parseAudioSpecificConfig,
} from '../../../../src/codecs/aac/audio-specific-config.js';
import { isEstuaryError } from '../../../../src/errors.js';

// [bytes, objectType, sampleRate, channels, extras] (ISO/IEC 14496-3 1.6.2.1)
const cases: [string, string, number, number, number, Record<string, unknown>][] = [
  ['AAC-LC 44.1 kHz stereo', '1210', 2, 44100, 2, { sampleRateIndex: 4, channelConfig: 2 }],
  ['AAC-LC 48 kHz mono', '1188', 2, 48000, 1, { sampleRateIndex: 3 }],
  ['AAC-LC 48 kHz 5.1', '11b0', 2, 48000, 6, { channelConfig: 6 }],
  // 00010 1111 (explicit) 0x01F40 (8000) 0010 000, padded: explicit frequency index 15.
  ['explicit 8000 Hz', '17800fa010', 2, 8000, 2, { sampleRateIndex: 15 }],
  // Escape object type 31 + 6 bits: 11111 000010 (= 34, Layer-3) 0100 0010.
  ['escape object type 34', 'f84840', 34, 44100, 2, {}],
  // HE-AAC explicit: 00101 (SBR) 0110 (24k core) 0010, ext 0011 (48k), core 00010.
  ['HE-AAC explicit SBR', '2b118800', 2, 24000, 2, { sbr: true, extensionSampleRate: 48000 }],
  // HE-AAC v2 explicit: 11101 (PS) 0110 0001, ext 0011, core 00010.
  ['HE-AAC v2 explicit PS', 'eb098800', 2, 24000, 1, { sbr: true, ps: true, extensionSampleRate: 48000 }],
];

test('parseAudioSpecificConfig case table', () => {
  for (const [name, hex, objectType, sampleRate, channels, extra] of cases) {
    const c = parseAudioSpecificConfig(Buffer.from(hex, 'hex'));
    assert.equal(c.objectType, objectType, name);
    assert.equal(c.sampleRate, sampleRate, name);
    assert.equal(c.channels, channels, name);
    for (const [k, v] of Object.entries(extra))
      assert.equal((c as unknown as Record<string, unknown>)[k], v, `${name} ${k}`);
  }
});

test('buildAudioSpecificConfig is byte-exact for common configs', () => {
  assert.deepEqual(
    buildAudioSpecificConfig({ objectType: 2, sampleRate: 44100, channelConfig: 2 }),
    Buffer.from('1210', 'hex'),
  );
  assert.deepEqual(
    buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channelConfig: 1 }),
    Buffer.from('1188', 'hex'),
  );
  const explicit = buildAudioSpecificConfig({ objectType: 2, sampleRate: 8000 + 1, channelConfig: 2 });
  assert.equal(parseAudioSpecificConfig(explicit).sampleRate, 8001);
  const escaped = buildAudioSpecificConfig({ objectType: 42, sampleRate: 48000, channelConfig: 2 });
  assert.equal(parseAudioSpecificConfig(escaped).objectType, 42);
});

test('parseAudioSpecificConfig rejects short or reserved configs', () => {
  const bad = (hex: string) =>
    assert.throws(
      () => parseAudioSpecificConfig(Buffer.from(hex, 'hex')),
      (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
      hex,
    );
  bad('12');
  bad('16d0'); // samplingFrequencyIndex 13 is reserved
  bad('1780'); // explicit rate cut short
  bad('0210'); // object type 0
});

test('aacCodecString', () => {
  assert.equal(aacCodecString(parseAudioSpecificConfig(Buffer.from('1210', 'hex'))), 'mp4a.40.2');
  assert.equal(aacCodecString(parseAudioSpecificConfig(Buffer.from('2b118800', 'hex'))), 'mp4a.40.5');
  assert.equal(aacCodecString(parseAudioSpecificConfig(Buffer.from('eb098800', 'hex'))), 'mp4a.40.29');
});
