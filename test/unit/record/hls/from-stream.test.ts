/**
 * The HLS recorder as a subscriber of a real LiveStream fed with synthetic frames, writing into a
 * temporary folder: what lands on disk, and the one log line per skipped track or failure.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { pino } from 'pino';
import { parseMediaPlaylist } from '../../../../src/formats/m3u8/parse-playlist.js';
import { LiveStream } from '../../../../src/hub/live-stream.js';
import { makeStreamName } from '../../../../src/hub/stream-name.js';
import type { MediaFrame } from '../../../../src/media/frame.js';
import type { AudioTrack, Track } from '../../../../src/media/track.js';
import { hlsRecorderFactory } from '../../../../src/record/hls/from-stream.js';
import { RECORDING_MARKER, type Recorder } from '../../../../src/record/recorder.js';
import { aacTrack, avcc, h264Track, readPackets } from '../../formats/mpegts/ts-test-helpers.js';

interface LogLine {
  level: number;
  msg: string;
}

const WARN = 40;
const ERROR = 50;
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(opts: { ready?: Promise<void>; window?: number; cleanup?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'estuary-hls-unit-'));
  dirs.push(dir);
  writeFileSync(join(dir, RECORDING_MARKER), 'x\n');
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  const stream = new LiveStream(makeStreamName('live', 'x'), pino({ level: 'silent' }));
  stream.startPublish({ protocol: 'test', remote: 'test', kick: () => {} });
  const rec: Recorder = hlsRecorderFactory.create({
    stream,
    dir,
    ready: opts.ready ?? Promise.resolve(),
    startedAt: new Date(0),
    log,
    sessionId: '20250101_000000',
    segmentSeconds: 1,
    hlsWindow: opts.window ?? 0,
    hlsCleanup: opts.cleanup ?? false,
  });
  stream.subscribe(rec);
  return { dir, lines, stream, rec };
}

/** ISO/IEC 14496-10 7.4.1.2: nal_unit_type 5 is an IDR slice, 1 a non-IDR slice. */
const IDR = avcc([Buffer.from([0x65, 0x88, 0x84, 0x00])]);
const SLICE = avcc([Buffer.from([0x41, 0x9a, 0x02, 0x00])]);

function videoFrame(dts: number, keyframe: boolean, track: Track = h264Track): MediaFrame {
  return { track, dts, pts: dts + 80, keyframe, data: keyframe ? IDR : SLICE };
}

function audioFrame(dts: number, track: Track = aacTrack): MediaFrame {
  return { track, dts, pts: dts, keyframe: true, data: Buffer.from([0x21, 0x10, 0x04, 0x60]) };
}

/** `seconds` of 25 fps video with a keyframe each second, and 25 ms audio frames. */
function publish(stream: LiveStream, seconds: number, video?: Track, audio?: Track, from = 0): void {
  for (let t = from; t < from + seconds * 1000; t += 5) {
    if (video && t % 40 === 0) stream.pushFrame(videoFrame(t, t % 1000 === 0, video));
    if (audio && t % 25 === 0) stream.pushFrame(audioFrame(t, audio));
  }
}

function pmtStreamTypes(segment: Buffer): number[] {
  const pmt = readPackets(segment)[1]!.payload;
  // pointer_field, then the section (2.4.4.8): 12 fixed bytes + program_info_length before the loop.
  const section = pmt.subarray(1 + pmt[0]!);
  const sectionLength = section.readUInt16BE(1) & 0x0fff;
  const infoLength = section.readUInt16BE(10) & 0x0fff;
  const types: number[] = [];
  for (let off = 12 + infoLength; off < 3 + sectionLength - 4; ) {
    types.push(section[off]!);
    off += 5 + (section.readUInt16BE(off + 3) & 0x0fff);
  }
  return types;
}

test('records H.264 + AAC into whole segments, a playlist with ENDLIST, and removes the marker', async () => {
  const { dir, lines, stream, rec } = setup();
  stream.setTrack(h264Track);
  stream.setTrack(aacTrack);
  publish(stream, 3, h264Track, aacTrack);
  await rec.finish('test');
  const playlist = parseMediaPlaylist(readFileSync(join(dir, 'index.m3u8'), 'utf8'));
  assert.equal(playlist.ended, true);
  assert.deepEqual(
    playlist.segments.map((s) => [s.uri, s.duration]),
    [
      ['segment_20250101_000000_00000.ts', 1],
      ['segment_20250101_000000_00001.ts', 1],
      ['segment_20250101_000000_00002.ts', 1],
    ],
  );
  assert.deepEqual(readdirSync(dir).sort(), [
    'index.m3u8',
    'segment_20250101_000000_00000.ts',
    'segment_20250101_000000_00001.ts',
    'segment_20250101_000000_00002.ts',
  ]);
  for (const s of playlist.segments) {
    const packets = readPackets(readFileSync(join(dir, s.uri)));
    assert.equal(packets[0]!.pid, 0x0000, 'PAT first');
    assert.equal(packets[1]!.pid, 0x1000, 'PMT second');
    // 13818-1 2.4.4.9 Table 2-34: 0x1B H.264, 0x0F AAC in ADTS.
    assert.deepEqual(pmtStreamTypes(readFileSync(join(dir, s.uri))), [0x1b, 0x0f]);
  }
  assert.deepEqual(
    lines.filter((l) => l.level >= WARN),
    [],
  );
  assert.ok(lines.some((l) => l.msg === 'HLS recording finished'));
});

test('an Opus-only stream: one line naming the supported codecs, one saying nothing is recorded', async () => {
  const { dir, lines, stream, rec } = setup();
  const opus: AudioTrack = { kind: 'audio', codec: 'opus', sampleRate: 48000, channels: 2 };
  stream.setTrack(opus);
  publish(stream, 2, undefined, opus);
  await rec.finish('test');
  const warnings = lines.filter((l) => l.level >= WARN).map((l) => l.msg);
  assert.deepEqual(warnings, [
    'HLS: skipping the audio opus track; HLS (MPEG-TS) carries video H.264, H.265 and audio AAC, MP3',
    'HLS: the stream has no track HLS can carry (HLS (MPEG-TS) carries video H.264, H.265 and audio AAC, MP3); recording nothing',
  ]);
  assert.deepEqual(readdirSync(dir), [], 'no playlist, no segment, and the marker is gone');
});

test('H.264 + Opus: the video is recorded alone, the audio skipped with one line', async () => {
  const { dir, lines, stream, rec } = setup();
  const opus: AudioTrack = { kind: 'audio', codec: 'opus', sampleRate: 48000, channels: 2 };
  stream.setTrack(h264Track);
  stream.setTrack(opus);
  publish(stream, 2, h264Track, opus);
  await rec.finish('test');
  assert.equal(lines.filter((l) => l.level >= WARN).length, 1);
  const playlist = parseMediaPlaylist(readFileSync(join(dir, 'index.m3u8'), 'utf8'));
  assert.equal(playlist.segments.length, 2);
  assert.deepEqual(pmtStreamTypes(readFileSync(join(dir, 'segment_20250101_000000_00000.ts'))), [0x1b]);
});

test('a track whose configuration the muxer cannot read is skipped like an unsupported one', async () => {
  const { dir, lines, stream, rec } = setup();
  const broken: AudioTrack = { ...aacTrack, config: Buffer.from([0x12]) };
  stream.setTrack(h264Track);
  stream.setTrack(broken);
  publish(stream, 2, h264Track, broken);
  await rec.finish('test');
  const warnings = lines.filter((l) => l.level >= WARN);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.msg, /^HLS: skipping the audio aac track; /);
  assert.deepEqual(pmtStreamTypes(readFileSync(join(dir, 'segment_20250101_000000_00001.ts'))), [0x1b]);
});

test('an audio codec change starts a new segment with a discontinuity and a new PMT', async () => {
  const { dir, stream, rec } = setup();
  const mp3: AudioTrack = {
    kind: 'audio',
    codec: 'mp3',
    sampleRate: 44100,
    channels: 2,
    flvAudioHeader: 0x2f,
  };
  stream.setTrack(aacTrack);
  publish(stream, 1.5, undefined, aacTrack);
  stream.setTrack(mp3);
  publish(stream, 1, undefined, mp3, 1500);
  await rec.finish('test');
  const playlist = parseMediaPlaylist(readFileSync(join(dir, 'index.m3u8'), 'utf8'));
  assert.deepEqual(
    playlist.segments.map((s) => [s.duration, s.discontinuity ?? false]),
    [
      [1, false],
      [0.5, false],
      [1, true],
    ],
  );
  // 0x0F AAC in ADTS; 0x03 MPEG-1 audio (44.1 kHz is an MPEG-1 rate).
  assert.deepEqual(pmtStreamTypes(readFileSync(join(dir, 'segment_20250101_000000_00001.ts'))), [0x0f]);
  assert.deepEqual(pmtStreamTypes(readFileSync(join(dir, 'segment_20250101_000000_00002.ts'))), [0x03]);
});

test('a data dir that cannot be written: one error line, finish resolves, nothing thrown', async () => {
  const ready = Promise.reject(new Error("ENOTDIR: not a directory, mkdir '/x/hls'"));
  ready.catch(() => {});
  const { lines, stream, rec } = setup({ ready });
  stream.setTrack(aacTrack);
  publish(stream, 3, undefined, aacTrack);
  await rec.finish('test');
  publish(stream, 1, undefined, aacTrack, 3000);
  const errors = lines.filter((l) => l.level >= ERROR).map((l) => l.msg);
  assert.deepEqual(errors, ["HLS recording stopped: ENOTDIR: not a directory, mkdir '/x/hls'"]);
  assert.ok(!lines.some((l) => l.msg === 'HLS recording finished'));
});

test('a malformed frame is skipped and counted; the recording goes on', async () => {
  const { dir, lines, stream, rec } = setup();
  stream.setTrack(h264Track);
  publish(stream, 1, h264Track);
  // A 4-byte NAL length (0x00000100) running past the end of the frame.
  stream.pushFrame({
    track: h264Track,
    dts: 1000,
    pts: 1000,
    keyframe: true,
    data: Buffer.from([0, 0, 1, 0, 0x65]),
  });
  publish(stream, 1, h264Track, undefined, 1040);
  await rec.finish('test');
  assert.equal(lines.filter((l) => l.level >= WARN).length, 1);
  const done = lines.find((l) => l.msg === 'HLS recording finished') as LogLine & { badFrames: number };
  assert.equal(done.badFrames, 1);
  assert.ok(existsSync(join(dir, 'index.m3u8')));
  assert.equal(stream.subscriberCount, 1, 'the recorder was never detached for throwing');
});

test('with hlsCleanup a sliding window deletes the segments that left it', async () => {
  const { dir, stream, rec } = setup({ window: 2, cleanup: true });
  stream.setTrack(aacTrack);
  publish(stream, 5, undefined, aacTrack);
  await rec.finish('test');
  const playlist = parseMediaPlaylist(readFileSync(join(dir, 'index.m3u8'), 'utf8'));
  assert.equal(playlist.mediaSequence, 3);
  assert.deepEqual(readdirSync(dir).sort(), [
    'index.m3u8',
    'segment_20250101_000000_00003.ts',
    'segment_20250101_000000_00004.ts',
  ]);
});

test('without hlsCleanup every segment stays and the ended playlist lists them all (VOD)', async () => {
  const { dir, stream, rec } = setup({ window: 2 });
  stream.setTrack(aacTrack);
  publish(stream, 5, undefined, aacTrack);
  await rec.finish('test');
  const playlist = parseMediaPlaylist(readFileSync(join(dir, 'index.m3u8'), 'utf8'));
  assert.equal(playlist.playlistType, 'VOD');
  assert.equal(playlist.ended, true);
  assert.equal(playlist.mediaSequence, 0);
  const segments = [0, 1, 2, 3, 4].map((n) => `segment_20250101_000000_0000${n}.ts`);
  assert.deepEqual(
    playlist.segments.map((s) => s.uri),
    segments,
  );
  assert.deepEqual(readdirSync(dir).sort(), ['index.m3u8', ...segments]);
});
