import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32Mpeg2 } from '../../../../src/formats/mpegts/crc32.js';
import { AUDIO_PID, buildPat, buildPmt, StreamType, VIDEO_PID } from '../../../../src/formats/mpegts/psi.js';

test('PAT is byte-identical to the one FFmpeg writes (program 1 → PMT PID 0x1000)', () => {
  assert.equal(buildPat().toString('hex'), '00b00d0001c100000001f0002ab104b2');
});

const PMT_CASES = [
  {
    name: 'H.264 + AAC (FFmpeg bytes)',
    pcrPid: VIDEO_PID,
    streams: [
      { streamType: StreamType.H264, pid: VIDEO_PID },
      { streamType: StreamType.AAC_ADTS, pid: AUDIO_PID },
    ],
    hex: '02b0170001c10000e100f0001be100f0000fe101f0002f44b99b',
  },
  {
    name: 'audio-only AAC: PCR on the audio PID',
    pcrPid: AUDIO_PID,
    streams: [{ streamType: StreamType.AAC_ADTS, pid: AUDIO_PID }],
    prefix: '02b0120001c10000e101f0000fe101f000',
  },
  {
    name: 'H.265 + MP3',
    pcrPid: VIDEO_PID,
    streams: [
      { streamType: StreamType.H265, pid: VIDEO_PID },
      { streamType: StreamType.MPEG1_AUDIO, pid: AUDIO_PID },
    ],
    prefix: '02b0170001c10000e100f00024e100f00003e101f000',
  },
];

for (const c of PMT_CASES) {
  test(`PMT: ${c.name}`, () => {
    const pmt = buildPmt(c.pcrPid, c.streams);
    if (c.hex) assert.equal(pmt.toString('hex'), c.hex);
    if (c.prefix) assert.equal(pmt.subarray(0, pmt.length - 4).toString('hex'), c.prefix);
    // section_length counts everything after its own field (2.4.4.8).
    assert.equal(pmt.readUInt16BE(1) & 0x0fff, pmt.length - 3);
    assert.equal(crc32Mpeg2(pmt), 0);
  });
}

test('stream_type values follow H.222.0 Table 2-34', () => {
  assert.deepEqual(StreamType, {
    MPEG1_AUDIO: 0x03,
    MPEG2_AUDIO: 0x04,
    AAC_ADTS: 0x0f,
    H264: 0x1b,
    H265: 0x24,
  });
});
