import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { ContinuityCounters } from '../../../../src/formats/mpegts/ts-packet.js';
import { isTsCodecSupported, TsMuxer } from '../../../../src/formats/mpegts/ts-writer.js';
import type { MediaFrame } from '../../../../src/media/frame.js';
import type { AudioTrack, Track, VideoTrack } from '../../../../src/media/track.js';
import {
  aacTrack,
  annexB,
  avcc,
  collectPes,
  H264_PPS,
  H264_SPS,
  h264Track,
  readPackets,
  readPes,
} from './ts-test-helpers.js';

const IDR = Buffer.from('65888400', 'hex');
const SLICE = Buffer.from('419a0203', 'hex');
const AAC_RAW = Buffer.from('21100504', 'hex');

function frame(track: Track, dts: number, pts = dts, keyframe = track.kind === 'audio'): MediaFrame {
  const data = track.kind === 'audio' ? AAC_RAW : avcc([keyframe ? IDR : SLICE]);
  return { track, dts, pts, keyframe, data };
}

test('writeTables: PAT then PMT, FFmpeg-identical sections, counters advancing per call', () => {
  const mux = new TsMuxer({ video: h264Track, audio: aacTrack });
  const first = readPackets(mux.writeTables());
  assert.deepEqual(
    first.map((p) => [p.pid, p.cc, p.pusi]),
    [
      [0, 0, true],
      [0x1000, 0, true],
    ],
  );
  assert.equal(first[0].payload.subarray(1, 17).toString('hex'), '00b00d0001c100000001f0002ab104b2');
  assert.equal(
    first[1].payload.subarray(1, 27).toString('hex'),
    '02b0170001c10000e100f0001be100f0000fe101f0002f44b99b',
  );
  const second = readPackets(mux.writeTables());
  assert.deepEqual(
    second.map((p) => p.cc),
    [1, 1],
  );
});

test('a video keyframe: PCR + random access in the first packet, PTS/DTS at 90 kHz + 1.4 s', () => {
  const mux = new TsMuxer({ video: h264Track, audio: aacTrack });
  const packets = readPackets(mux.writeFrame(frame(h264Track, 0, 80, true)));
  assert.equal(packets[0].pid, 0x100);
  assert.equal(packets[0].randomAccess, true);
  // PCR = DTS - 0.7 s = (0 + 1400 - 700) ms × 90 × 300.
  assert.equal(packets[0].pcr27, 700 * 90 * 300);
  const pes = readPes(collectPes(packets, 0x100)[0]);
  assert.equal(pes.streamId, 0xe0);
  assert.equal(pes.packetLength, 0, 'video PES is unbounded');
  assert.equal(pes.dts, 1400 * 90);
  assert.equal(pes.pts, 1480 * 90);
  assert.deepEqual(pes.data, annexB([Buffer.from('09f0', 'hex'), H264_SPS, H264_PPS, IDR]));
});

test('audio PES: ADTS data, bounded length, PTS only; a PCR-only packet comes first when the PCR is due', () => {
  const mux = new TsMuxer({ video: h264Track, audio: aacTrack });
  const packets = readPackets(mux.writeFrame(frame(aacTrack, 0)));
  assert.deepEqual(
    packets.map((p) => [p.pid, p.afc]),
    [
      [0x100, 0b10],
      [0x101, 0b11],
    ],
  );
  assert.equal(packets[0].pcr27, 700 * 90 * 300);
  const pes = readPes(collectPes(packets, 0x101)[0]);
  assert.equal(pes.streamId, 0xc0);
  assert.equal(pes.packetLength, 3 + 5 + 11);
  assert.equal(pes.pts, 1400 * 90);
  assert.equal(pes.data.toString('hex'), 'fff15080017ffc21100504');
  // 23 ms later the PCR is recent enough: no extra packet.
  assert.equal(readPackets(mux.writeFrame(frame(aacTrack, 23))).length, 1);
  // Once video PES carry PCRs, audio in between adds none.
  mux.writeFrame(frame(h264Track, 40, 40, true));
  assert.equal(readPackets(mux.writeFrame(frame(aacTrack, 46))).length, 1);
  // After 100 ms without video, audio brings a PCR-only packet on the video PID.
  assert.equal(readPackets(mux.writeFrame(frame(aacTrack, 140))).length, 2);
});

test('audio-only: PCR on the audio PID, which the PMT names', () => {
  const mux = new TsMuxer({ audio: aacTrack });
  assert.equal(mux.pcrPid, 0x101);
  const pmt = readPackets(mux.writeTables())[1].payload;
  assert.equal(pmt.readUInt16BE(1 + 8) & 0x1fff, 0x101);
  const packets = readPackets(mux.writeFrame(frame(aacTrack, 1000)));
  assert.equal(packets.length, 1);
  assert.equal(packets[0].pcr27, (1000 + 700) * 90 * 300);
  assert.equal(packets[0].randomAccess, true);
});

test('continuity counters continue across segments and into a replacement muxer', () => {
  const counters = new ContinuityCounters();
  const mux = new TsMuxer({ video: h264Track }, { counters });
  const ccs: number[] = [];
  for (let i = 0; i < 20; i++) {
    if (i % 5 === 0) mux.writeTables();
    for (const p of readPackets(mux.writeFrame(frame(h264Track, i * 40, i * 40, i % 5 === 0))))
      ccs.push(p.cc);
  }
  assert.deepEqual(
    ccs,
    ccs.map((_, i) => i & 0x0f),
  );
  const next = new TsMuxer({ video: h264Track }, { counters });
  assert.equal(readPackets(next.writeFrame(frame(h264Track, 800, 800, true)))[0].cc, 20 & 0x0f);
});

test('PCR never runs backwards, even when audio runs ahead of video', () => {
  const mux = new TsMuxer({ video: h264Track, audio: aacTrack });
  mux.writeFrame(frame(aacTrack, 500));
  const packets = readPackets(mux.writeFrame(frame(h264Track, 0, 0, true)));
  assert.equal(packets[0].pcr27, (500 + 700) * 90 * 300);
});

test('a new track object with the same codec is picked up; a codec change is refused', () => {
  const mux = new TsMuxer({ video: h264Track });
  const sps = Buffer.from('6764001f', 'hex');
  const config = Buffer.from('0164001fffe100046764001f01000268ce', 'hex');
  const newTrack: VideoTrack = { ...h264Track, config };
  const pes = readPes(collectPes(readPackets(mux.writeFrame(frame(newTrack, 0, 0, true))), 0x100)[0]);
  assert.deepEqual(pes.data, annexB([Buffer.from('09f0', 'hex'), sps, H264_PPS, IDR]));
  const hevc: VideoTrack = { kind: 'video', codec: 'h265', width: 0, height: 0 };
  assert.throws(
    () => mux.writeFrame({ ...frame(newTrack, 40), track: hevc }),
    (err) => isEstuaryError(err, 'ERR_CODEC_UNSUPPORTED') && /new TsMuxer/.test(err.message),
  );
  const amux = new TsMuxer({ audio: aacTrack });
  const mp3: AudioTrack = { kind: 'audio', codec: 'mp3', sampleRate: 44100, channels: 2 };
  assert.throws(() => amux.writeFrame({ ...frame(aacTrack, 0), track: mp3 }), isEstuaryError);
});

test('frames and tracks the muxer cannot place are refused with coded errors', () => {
  assert.throws(
    () => new TsMuxer({}),
    (err) => isEstuaryError(err, 'ERR_MPEGTS_MUX'),
  );
  const opus: AudioTrack = { kind: 'audio', codec: 'opus', sampleRate: 48000, channels: 2 };
  assert.equal(isTsCodecSupported(opus), false);
  assert.equal(isTsCodecSupported(h264Track), true);
  assert.throws(
    () => new TsMuxer({ video: h264Track, audio: opus }),
    (err) =>
      isEstuaryError(err, 'ERR_CODEC_UNSUPPORTED') &&
      err.message.includes('video H.264, H.265 and audio AAC, MP3; got audio opus'),
  );
  const videoOnly = new TsMuxer({ video: h264Track });
  assert.throws(
    () => videoOnly.writeFrame(frame(aacTrack, 0)),
    (err) => isEstuaryError(err, 'ERR_MPEGTS_MUX'),
  );
  // A DTS more than the offset before 0 cannot be placed.
  assert.throws(
    () => videoOnly.writeFrame(frame(h264Track, -1500)),
    (err) => isEstuaryError(err, 'ERR_MPEGTS_MUX'),
  );
  assert.throws(() => new TsMuxer({ video: h264Track }, { timeOffsetMs: -1 }), isEstuaryError);
});

test('an empty video frame writes nothing', () => {
  const mux = new TsMuxer({ video: h264Track });
  assert.equal(mux.writeFrame({ ...frame(h264Track, 0), data: Buffer.alloc(0) }).length, 0);
});

test('garbage payloads end in coded errors or valid packets, never a crash', () => {
  // A deterministic linear congruential generator keeps the case list reproducible.
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const mux = new TsMuxer({ video: h264Track, audio: aacTrack });
  for (let i = 0; i < 300; i++) {
    const data = Buffer.from(Array.from({ length: rand() % 64 }, () => rand() & 0xff));
    const track = i % 2 ? aacTrack : h264Track;
    try {
      const out = mux.writeFrame({ track, dts: i * 20, pts: i * 20, keyframe: i % 7 === 0, data });
      assert.equal(out.length % 188, 0);
    } catch (err) {
      assert.ok(isEstuaryError(err), String(err));
    }
  }
});
