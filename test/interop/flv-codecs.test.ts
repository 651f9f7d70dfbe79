/**
 * The codec helpers against FFmpeg: AAC frames from an FLV fixture re-framed as ADTS with
 * buildAdtsHeader, and H.264 frames turned from AVCC into Annex B (parameter sets from avcC
 * before each keyframe), both decoded by FFmpeg with no error output and the same frame count.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildAdtsHeader } from '../../src/codecs/aac/adts.js';
import { parseAudioSpecificConfig } from '../../src/codecs/aac/audio-specific-config.js';
import { parseAvcConfig } from '../../src/codecs/h264/avc-config.js';
import { nalusToAnnexB, splitAvcc } from '../../src/codecs/h264/nalu.js';
import { FlvToFrames } from '../../src/formats/flv/flv-to-frame.js';
import { FlvTagReader } from '../../src/formats/flv/tag-reader.js';
import type { MediaFrame } from '../../src/media/frame.js';
import { requireTool } from '../helpers/tools.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/media/h264-aac-3s.flv', import.meta.url));

function frames(): MediaFrame[] {
  const demux = new FlvToFrames();
  const out: MediaFrame[] = [];
  for (const tag of new FlvTagReader().push(readFileSync(FIXTURE))) {
    for (const e of demux.push(tag, tag.timestamp)) if (e.kind === 'frame') out.push(e.frame);
  }
  return out;
}

function probeCount(
  ffprobe: string,
  file: string,
): { codec_name: string; nb_read_frames: string; width?: number } {
  const r = spawnSync(ffprobe, ['-v', 'error', '-count_frames', '-show_streams', '-of', 'json', file], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return (
    JSON.parse(r.stdout) as { streams: { codec_name: string; nb_read_frames: string; width?: number }[] }
  ).streams[0];
}

function decodeClean(ffmpeg: string, file: string): void {
  const r = spawnSync(ffmpeg, ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '', 'no decoder errors');
}

test('AAC frames + buildAdtsHeader make an ADTS stream FFmpeg decodes', (t: TestContext) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  const ffprobe = requireTool(t, 'ffprobe');
  if (!ffmpeg || !ffprobe) return;
  const aac = frames().filter((f) => f.track.kind === 'audio');
  const config = parseAudioSpecificConfig(aac[0].track.config!);
  const adts = Buffer.concat(aac.flatMap((f) => [buildAdtsHeader(config, f.data.length), f.data]));
  const dir = mkdtempSync(join(tmpdir(), 'estuary-adts-'));
  try {
    const file = join(dir, 'out.aac');
    writeFileSync(file, adts);
    decodeClean(ffmpeg, file);
    const s = probeCount(ffprobe, file);
    assert.equal(s.codec_name, 'aac');
    assert.equal(Number(s.nb_read_frames), aac.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('H.264 AVCC frames → Annex B with SPS/PPS from avcC decode in FFmpeg', (t: TestContext) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  const ffprobe = requireTool(t, 'ffprobe');
  if (!ffmpeg || !ffprobe) return;
  const video = frames().filter((f) => f.track.kind === 'video');
  const avc = parseAvcConfig(video[0].track.config!);
  const stream = Buffer.concat(
    video.map((f) => {
      const nalus = splitAvcc(f.data, avc.lengthSize);
      return nalusToAnnexB(f.keyframe ? [...avc.sps, ...avc.pps, ...nalus] : nalus);
    }),
  );
  const dir = mkdtempSync(join(tmpdir(), 'estuary-annexb-'));
  try {
    const file = join(dir, 'out.h264');
    writeFileSync(file, stream);
    decodeClean(ffmpeg, file);
    const s = probeCount(ffprobe, file);
    assert.equal(s.codec_name, 'h264');
    assert.equal(s.width, 320);
    assert.equal(Number(s.nb_read_frames), video.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
