/**
 * H.265 + AAC through TsMuxer: FFmpeg encodes raw HEVC (with AUDs, no B-frames, so pts = dts =
 * 40 ms × n) and raw ADTS; we cut them into access units, strip the in-band VPS/SPS/PPS into an
 * hvcC (as FLV/MP4 would carry them), mux 1 s segments and let FFmpeg decode the playlist.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseAdtsFrames } from '../../src/codecs/aac/adts.js';
import { buildAudioSpecificConfig } from '../../src/codecs/aac/audio-specific-config.js';
import { annexBToAvcc, splitAnnexB } from '../../src/codecs/h264/nalu.js';
import { HevcNaluType, hevcNaluType, isHevcIrap } from '../../src/codecs/h265/nalu.js';
import { renderMediaPlaylist } from '../../src/formats/m3u8/playlist.js';
import { TsMuxer } from '../../src/formats/mpegts/ts-writer.js';
import type { MediaFrame } from '../../src/media/frame.js';
import type { AudioTrack, VideoTrack } from '../../src/media/track.js';
import { requireTool } from '../helpers/tools.js';
import { hvccConfig } from '../unit/formats/mpegts/ts-test-helpers.js';

const run = promisify(execFile);
const FRAME_MS = 40;

/** Groups Annex B NAL units into access units at each AUD; parameter sets are set aside. */
function hevcFrames(stream: Buffer): { track: VideoTrack; frames: MediaFrame[] } {
  const params = new Map<number, Buffer>();
  const units: Buffer[][] = [];
  for (const nal of splitAnnexB(stream)) {
    const type = hevcNaluType(nal);
    const isParamSet = type === HevcNaluType.Vps || type === HevcNaluType.Sps || type === HevcNaluType.Pps;
    if (type === HevcNaluType.Aud) {
      units.push([]);
    } else if (isParamSet) {
      params.set(type, nal);
    } else {
      assert.ok(units.length > 0, 'x265 with aud=1 starts every access unit with an AUD');
      units[units.length - 1].push(nal);
    }
  }
  const config = hvccConfig(
    params.get(HevcNaluType.Vps),
    params.get(HevcNaluType.Sps),
    params.get(HevcNaluType.Pps),
  );
  const track: VideoTrack = { kind: 'video', codec: 'h265', config, width: 320, height: 240 };
  const frames = units.map((nalus, i) => ({
    track,
    dts: i * FRAME_MS,
    pts: i * FRAME_MS,
    keyframe: nalus.some((n) => isHevcIrap(hevcNaluType(n))),
    data: annexBToAvcc(nalus),
  }));
  return { track, frames };
}

function aacFrames(adts: Buffer): { track: AudioTrack; frames: MediaFrame[] } {
  const { config, frames: raw } = parseAdtsFrames(adts);
  const asc = buildAudioSpecificConfig({
    objectType: config.objectType,
    sampleRate: config.sampleRate,
    channelConfig: config.channelConfig,
  });
  const track: AudioTrack = {
    kind: 'audio',
    codec: 'aac',
    config: asc,
    sampleRate: config.sampleRate,
    channels: config.channels,
  };
  // 1024 samples per AAC-LC frame (ISO/IEC 14496-3 4.5.1.1).
  const frames = raw.map((data, i) => {
    const ms = Math.round((i * 1024 * 1000) / config.sampleRate);
    return { track, dts: ms, pts: ms, keyframe: true, data };
  });
  return { track, frames };
}

test('H.265 + AAC in TS segments decodes cleanly with FFmpeg', async (t) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  const ffprobe = requireTool(t, 'ffprobe');
  if (!ffmpeg || !ffprobe) return;
  const dir = mkdtempSync(join(tmpdir(), 'estuary-hevc-'));
  try {
    await run(ffmpeg, [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', '2', '-c:v', 'libx265'],
      ...['-x265-params', 'log-level=none:aud=1:bframes=0:keyint=25', '-f', 'hevc', join(dir, 'v.hevc')],
      ...[
        '-f',
        'lavfi',
        '-i',
        'sine=sample_rate=44100',
        '-t',
        '2',
        '-c:a',
        'aac',
        '-f',
        'adts',
        join(dir, 'a.aac'),
      ],
    ]);
    const video = hevcFrames(readFileSync(join(dir, 'v.hevc')));
    const audio = aacFrames(readFileSync(join(dir, 'a.aac')));
    assert.equal(video.frames.length, 50);
    const frames = [...video.frames, ...audio.frames].sort((a, b) => a.dts - b.dts);
    const mux = new TsMuxer({ video: video.track, audio: audio.track });
    const segments: { uri: string; duration: number }[] = [];
    let parts: Buffer[] = [];
    let start = 0;
    for (const f of frames) {
      if (f.track.kind === 'video' && f.keyframe && f.dts > start) {
        segments.push({ uri: `s${segments.length}.ts`, duration: (f.dts - start) / 1000 });
        writeFileSync(join(dir, segments[segments.length - 1].uri), Buffer.concat(parts));
        parts = [];
        start = f.dts;
      }
      if (parts.length === 0) parts.push(mux.writeTables());
      parts.push(mux.writeFrame(f));
    }
    segments.push({ uri: `s${segments.length}.ts`, duration: (50 * FRAME_MS - start) / 1000 });
    writeFileSync(join(dir, segments[segments.length - 1].uri), Buffer.concat(parts));
    assert.equal(segments.length, 2);
    const playlist = join(dir, 'index.m3u8');
    writeFileSync(playlist, renderMediaPlaylist({ version: 3, mediaSequence: 0, segments, ended: true }));

    const decoded = await run(ffmpeg, ['-v', 'error', '-i', playlist, '-f', 'null', '-']);
    assert.equal(decoded.stdout + decoded.stderr, '');
    const { stdout } = await run(ffprobe, [
      ...['-v', 'error', '-count_frames', '-of', 'json', '-show_entries'],
      ...['stream=codec_name,width,height,nb_read_frames', playlist],
    ]);
    const { streams } = JSON.parse(stdout) as { streams: Record<string, string | number>[] };
    assert.deepEqual(streams[0], { codec_name: 'hevc', width: 320, height: 240, nb_read_frames: '50' });
    assert.deepEqual(streams[1], { codec_name: 'aac', nb_read_frames: String(audio.frames.length) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
