/**
 * FLV (H.264 with B-frames + AAC) → MediaFrames → TsMuxer → ~2 s segments + an m3u8, then
 * FFmpeg decodes the result and ffprobe counts it. The cut loop here is a stand-in for the real
 * segmenter (src/record/hls): cut at a video keyframe once 2 s have passed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FlvToFrames } from '../../src/formats/flv/flv-to-frame.js';
import { FlvTagReader } from '../../src/formats/flv/tag-reader.js';
import { renderMediaPlaylist } from '../../src/formats/m3u8/playlist.js';
import { TsMuxer, type TsMuxerTracks } from '../../src/formats/mpegts/ts-writer.js';
import type { MediaFrame } from '../../src/media/frame.js';
import { TimestampUnwrapper } from '../../src/media/time.js';
import { requireTool, tools } from '../helpers/tools.js';

const run = promisify(execFile);
const FIXTURE = fileURLToPath(new URL('../fixtures/media/h264-aac-bframes-10s.flv', import.meta.url));
const TARGET_MS = 2000;

let dir = '';
let source = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'estuary-mpegts-'));
  source = FIXTURE;
  if (!existsSync(FIXTURE) && tools.ffmpeg) {
    // Until test/fixtures/make-fixtures.ts provides it: the same recipe, 10 s, 320x240, 25 fps,
    // High profile with B-frames, GOP 50, AAC-LC 44.1 kHz stereo.
    source = join(dir, 'source.flv');
    await run(tools.ffmpeg, [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '10'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-bf', '2', '-g', '50'],
      ...['-pix_fmt', 'yuv420p', '-c:a', 'aac', '-ac', '2', '-f', 'flv', source],
    ]);
  }
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function demuxFlv(path: string): { tracks: TsMuxerTracks; frames: MediaFrame[] } {
  const reader = new FlvTagReader();
  const toFrames = new FlvToFrames();
  const unwrapper = new TimestampUnwrapper();
  const tracks: TsMuxerTracks = {};
  const frames: MediaFrame[] = [];
  for (const tag of reader.push(readFileSync(path))) {
    for (const ev of toFrames.push(tag, unwrapper.unwrap(tag.timestamp))) {
      if (ev.kind === 'track' && ev.track.kind === 'video') tracks.video ??= ev.track;
      if (ev.kind === 'track' && ev.track.kind === 'audio') tracks.audio ??= ev.track;
      if (ev.kind === 'frame') frames.push(ev.frame);
    }
  }
  return { tracks, frames };
}

/** Muxes the frames into segments in `out` and writes index.m3u8; returns the segment names. */
function writeHls(out: string, tracks: TsMuxerTracks, all: MediaFrame[]): string[] {
  const frames = all.filter((f) => (f.track.kind === 'video' ? tracks.video : tracks.audio));
  const mux = new TsMuxer(tracks);
  const cutOnVideo = tracks.video !== undefined;
  const segments: { uri: string; duration: number }[] = [];
  let parts: Buffer[] = [];
  let start = frames[0].dts;
  let end = start;
  const flush = (until: number) => {
    const uri = `seg${segments.length}.ts`;
    writeFileSync(join(out, uri), Buffer.concat(parts));
    segments.push({ uri, duration: (until - start) / 1000 });
    parts = [];
    start = until;
  };
  for (const f of frames) {
    const isCut = cutOnVideo ? f.track.kind === 'video' && f.keyframe : true;
    if (isCut && f.dts - start >= TARGET_MS && parts.length > 0) flush(f.dts);
    if (parts.length === 0) parts.push(mux.writeTables());
    parts.push(mux.writeFrame(f));
    // The end of the last frame: 40 ms per picture at 25 fps, 1024 samples per AAC frame.
    end = Math.max(end, f.pts + (f.track.kind === 'video' ? 40 : (1024 * 1000) / f.track.sampleRate));
  }
  flush(end);
  const text = renderMediaPlaylist({
    version: 3,
    targetDuration: TARGET_MS / 1000,
    mediaSequence: 0,
    independentSegments: true,
    segments,
    ended: true,
  });
  writeFileSync(join(out, 'index.m3u8'), text);
  return segments.map((s) => s.uri);
}

interface Probe {
  streams: {
    codec_name: string;
    codec_type: string;
    width?: number;
    height?: number;
    nb_read_frames: string;
  }[];
  format: { duration: string };
}

async function probe(ffprobe: string, input: string): Promise<Probe> {
  const { stdout } = await run(ffprobe, [
    ...['-v', 'error', '-count_frames', '-of', 'json', '-show_entries'],
    'stream=codec_name,codec_type,width,height,nb_read_frames:format=duration',
    input,
  ]);
  return JSON.parse(stdout) as Probe;
}

/** Every packet has pts >= dts, and dts strictly increases within each stream. */
async function checkPacketOrder(ffprobe: string, input: string): Promise<number> {
  const { stdout } = await run(
    ffprobe,
    ['-v', 'error', '-of', 'json', '-show_entries', 'packet=stream_index,pts,dts', input],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const { packets } = JSON.parse(stdout) as { packets: { stream_index: number; pts: number; dts: number }[] };
  const lastDts = new Map<number, number>();
  for (const p of packets) {
    assert.ok(p.pts >= p.dts, `stream ${p.stream_index}: pts ${p.pts} < dts ${p.dts}`);
    const last = lastDts.get(p.stream_index);
    if (last !== undefined) assert.ok(p.dts > last, `stream ${p.stream_index}: dts ${p.dts} after ${last}`);
    lastDts.set(p.stream_index, p.dts);
  }
  return packets.length;
}

async function ffmpegErrors(ffmpeg: string, input: string): Promise<string> {
  const { stdout, stderr } = await run(ffmpeg, ['-v', 'error', '-i', input, '-f', 'null', '-']);
  return stdout + stderr;
}

const VARIANTS = [
  { name: 'video + audio', video: true, audio: true },
  { name: 'video only', video: true, audio: false },
  { name: 'audio only', video: false, audio: true },
];

for (const v of VARIANTS) {
  test(`HLS of TS segments (${v.name}) decodes cleanly and matches the source`, async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffmpeg || !ffprobe) return;
    const { tracks, frames } = demuxFlv(source);
    assert.ok(tracks.video && tracks.audio, 'the source has both tracks');
    const out = join(dir, v.name.replace(/\W+/g, '-'));
    mkdirSync(out, { recursive: true });
    const segments = writeHls(
      out,
      { video: v.video ? tracks.video : undefined, audio: v.audio ? tracks.audio : undefined },
      frames,
    );
    assert.ok(segments.length >= 4, `${segments.length} segments of ~2 s from 10 s`);

    const playlist = join(out, 'index.m3u8');
    assert.equal(await ffmpegErrors(ffmpeg, playlist), '');
    // Each segment starts with PAT + PMT and (for video) an IDR with its SPS/PPS: decodable alone.
    const seg = readFileSync(join(out, segments[1]));
    assert.equal(seg.readUInt16BE(1) & 0x1fff, 0x0000);
    assert.equal(seg.readUInt16BE(188 + 1) & 0x1fff, 0x1000);
    assert.equal(await ffmpegErrors(ffmpeg, join(out, segments[1])), '');

    const [src, hls] = await Promise.all([probe(ffprobe, source), probe(ffprobe, playlist)]);
    const pick = (p: Probe, type: string) => p.streams.find((s) => s.codec_type === type);
    assert.equal(hls.streams.length, (v.video ? 1 : 0) + (v.audio ? 1 : 0));
    if (v.video) {
      const video = pick(hls, 'video');
      assert.equal(video?.codec_name, 'h264');
      assert.equal(`${video?.width}x${video?.height}`, '320x240');
      assert.equal(video?.nb_read_frames, pick(src, 'video')?.nb_read_frames);
      if (source === FIXTURE) assert.equal(video?.nb_read_frames, '250');
    }
    if (v.audio) {
      const audio = pick(hls, 'audio');
      assert.equal(audio?.codec_name, 'aac');
      assert.equal(audio?.nb_read_frames, pick(src, 'audio')?.nb_read_frames);
    }
    const drift = Math.abs(Number(hls.format.duration) - Number(src.format.duration));
    assert.ok(drift <= 0.2, `duration ${hls.format.duration} s vs source ${src.format.duration} s`);
    assert.ok((await checkPacketOrder(ffprobe, playlist)) > 0);
  });
}

test('HLS of TS segments with H.264 + MP3 audio decodes cleanly and keeps every frame', async (t) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  const ffprobe = requireTool(t, 'ffprobe');
  if (!ffmpeg || !ffprobe) return;
  const mp3 = fileURLToPath(new URL('../fixtures/media/mp3-3s.flv', import.meta.url));
  if (!existsSync(mp3)) {
    t.skip('test/fixtures/media/mp3-3s.flv is not generated yet (npm run fixtures)');
    return;
  }
  const { tracks, frames } = demuxFlv(mp3);
  assert.equal(tracks.audio?.codec, 'mp3');
  const out = join(dir, 'mp3');
  mkdirSync(out);
  writeHls(out, { video: tracks.video, audio: tracks.audio }, frames);
  const playlist = join(out, 'index.m3u8');
  assert.equal(await ffmpegErrors(ffmpeg, playlist), '');
  const [src, hls] = await Promise.all([probe(ffprobe, mp3), probe(ffprobe, playlist)]);
  const srcAudio = src.streams.find((s) => s.codec_type === 'audio');
  const hlsAudio = hls.streams.find((s) => s.codec_type === 'audio');
  assert.equal(hlsAudio?.codec_name, 'mp3');
  assert.equal(hlsAudio?.nb_read_frames, srcAudio?.nb_read_frames);
});
