import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AudioTrack, VideoTrack } from '../../../src/media/track.js';
import { flvReadyTrack, mp3FlvAudioHeader, sameTrackConfig } from '../../../src/pusher/flv-track.js';

test('mp3FlvAudioHeader: SoundFormat 2, rate index, 16-bit, stereo bit (E.4.2.1)', () => {
  // 0x2f = 0010 11 1 1: MP3, 44 kHz, 16-bit, stereo.
  assert.equal(mp3FlvAudioHeader(44_100, 2), 0x2f);
  assert.equal(mp3FlvAudioHeader(48_000, 1), 0x2e);
  assert.equal(mp3FlvAudioHeader(22_050, 2), 0x2b);
  assert.equal(mp3FlvAudioHeader(24_000, 2), 0x2b);
  assert.equal(mp3FlvAudioHeader(11_025, 1), 0x26);
  assert.equal(mp3FlvAudioHeader(8_000, 1), 0x22);
});

test('flvReadyTrack: MP3 from an MP4 gets its header byte; others are returned as they are', () => {
  const mp3: AudioTrack = { kind: 'audio', codec: 'mp3', sampleRate: 44_100, channels: 2 };
  const ready = flvReadyTrack(mp3);
  assert.notEqual(ready, mp3);
  assert.equal((ready as AudioTrack).flvAudioHeader, 0x2f);
  const fromFlv: AudioTrack = { ...mp3, flvAudioHeader: 0x2a };
  assert.equal(flvReadyTrack(fromFlv), fromFlv);
  const aac: AudioTrack = {
    kind: 'audio',
    codec: 'aac',
    config: Buffer.from([0x12, 0x10]),
    sampleRate: 44_100,
    channels: 2,
  };
  assert.equal(flvReadyTrack(aac), aac);
});

test('sameTrackConfig: by codec and configuration bytes, not identity', () => {
  const v1: VideoTrack = {
    kind: 'video',
    codec: 'h264',
    config: Buffer.from([1, 0x64, 0, 0x0d]),
    width: 320,
    height: 240,
  };
  const v2: VideoTrack = { ...v1, config: Buffer.from([1, 0x64, 0, 0x0d]) };
  const v3: VideoTrack = { ...v1, config: Buffer.from([1, 0x64, 0, 0x1f]) };
  const h265: VideoTrack = { ...v1, codec: 'h265' };
  assert.equal(sameTrackConfig(v1, v2), true);
  assert.equal(sameTrackConfig(v1, v3), false);
  assert.equal(sameTrackConfig(v1, h265), false);
  assert.equal(sameTrackConfig(undefined, v1), false);
  assert.equal(sameTrackConfig(undefined, undefined), true);
  const m1: AudioTrack = {
    kind: 'audio',
    codec: 'mp3',
    sampleRate: 44_100,
    channels: 2,
    flvAudioHeader: 0x2f,
  };
  assert.equal(sameTrackConfig(m1, { ...m1 }), true);
  assert.equal(sameTrackConfig(m1, { ...m1, flvAudioHeader: 0x2e }), false);
  assert.equal(sameTrackConfig(v1, m1), false);
});
