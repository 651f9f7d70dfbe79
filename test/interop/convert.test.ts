/**
 * `convertFile` in every direction on the committed fixtures, checked by FFmpeg: the output
 * decodes without a single error line, has the input's frame count per track (audio ±1 frame)
 * and duration, its tracks start within 50 ms of each other as they do in the input, and a
 * fast-start MP4 has its moov before its mdat.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { convertFile } from '../../src/convert/convert.js';
import { fixture } from '../helpers/media.js';
import { decodeErrors, type MediaStats, mediaStats, topLevelBoxes } from '../helpers/media-stats.js';
import { requireTool } from '../helpers/tools.js';

/** One AAC frame at 44.1 kHz (1024 samples), s: the tolerance the issue allows on audio. */
const AUDIO_FRAME_S = 1024 / 44100;
/** One video frame at the fixtures' 25 fps, s. */
const VIDEO_FRAME_S = 0.04;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'estuary-convert-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function compare(input: MediaStats, output: MediaStats, label: string): void {
  for (const kind of ['video', 'audio'] as const) {
    const a = input[kind];
    const b = output[kind];
    assert.equal(b === undefined, a === undefined, `${label}: ${kind} present in both or neither`);
    if (!a || !b) continue;
    const slack = kind === 'audio' ? 1 : 0;
    assert.ok(
      Math.abs(a.packets - b.packets) <= slack,
      `${label}: ${kind} frames ${b.packets} vs input ${a.packets}`,
    );
    const tol = (kind === 'audio' ? AUDIO_FRAME_S : VIDEO_FRAME_S) + 0.002;
    const durIn = a.end - a.start;
    const durOut = b.end - b.start;
    assert.ok(
      Math.abs(durIn - durOut) <= tol,
      `${label}: ${kind} lasts ${durOut.toFixed(3)} s vs input ${durIn.toFixed(3)} s`,
    );
  }
  if (output.video && output.audio) {
    const gap = Math.abs(output.video.start - output.audio.start);
    assert.ok(gap <= 0.05, `${label}: video starts ${output.video.start}, audio ${output.audio.start}`);
  }
}

const CASES: { input: string; output: string; fragmented?: boolean; fmp4?: boolean }[] = [
  { input: 'h264-aac-bframes-10s.flv', output: 'flv-fast.mp4' },
  { input: 'h264-aac-bframes-10s.flv', output: 'flv-frag.mp4', fragmented: true },
  { input: 'h264-aac-bframes-10s.flv', output: 'flv-ts.m3u8' },
  { input: 'h264-aac-bframes-10s.flv', output: 'flv-fmp4.m3u8', fmp4: true },
  { input: 'h264-aac-bframes-10s.flv', output: 'flv-copy.flv' },
  { input: 'h264-aac-bframes-10s.mp4', output: 'mp4-fast.mp4' },
  { input: 'h264-aac-bframes-10s.mp4', output: 'mp4-ts.m3u8' },
  { input: 'h264-aac-bframes-10s.mp4', output: 'mp4.flv' },
  { input: 'hevc-aac-3s.mp4', output: 'hevc-ts.m3u8' },
  { input: 'mp3-3s.flv', output: 'mp3.mp4' },
  { input: 'audio-only-3s.flv', output: 'audio-only.mp4' },
  { input: 'audio-only-3s.flv', output: 'audio-only.m3u8' },
  { input: 'video-only-3s.flv', output: 'video-only.mp4' },
  { input: 'video-only-3s.flv', output: 'video-only.m3u8' },
  { input: 'video-only-3s.flv', output: 'video-only.flv' },
];

/** Each fixture is probed once, however many cases read it. */
const inputStats = new Map<string, Promise<MediaStats>>();
function statsOf(ffprobe: string, input: string): Promise<MediaStats> {
  let p = inputStats.get(input);
  if (!p) {
    p = mediaStats(ffprobe, input);
    inputStats.set(input, p);
  }
  return p;
}

// Cases run a few at a time: each waits mostly on FFmpeg processes.
describe('convertFile, checked by FFmpeg', { timeout: 120_000, concurrency: 4 }, () => {
  for (const c of CASES) {
    const flags = [c.fragmented ? '--fragmented' : '', c.fmp4 ? '--fmp4' : ''].join(' ').trim();
    it(`${c.input} → ${c.output} ${flags}`, async (t) => {
      const ffmpeg = requireTool(t, 'ffmpeg');
      const ffprobe = requireTool(t, 'ffprobe');
      if (!ffmpeg || !ffprobe) return;
      const input = fixture(c.input);
      const out = join(dir, c.output);
      const r = await convertFile({ input, output: out, fragmented: c.fragmented, fmp4: c.fmp4 });
      assert.equal(r.complete, true, r.problem?.message);
      assert.equal(await decodeErrors(ffmpeg, out), '', 'ffmpeg decodes the output without errors');
      const [inStats, outStats] = await Promise.all([statsOf(ffprobe, input), mediaStats(ffprobe, out)]);
      compare(inStats, outStats, c.output);
      assert.equal(r.frames.video, inStats.video?.packets ?? 0);
      if (c.output.endsWith('.mp4')) {
        const boxes = await topLevelBoxes(out);
        const moov = boxes.indexOf('moov');
        assert.ok(
          moov >= 0 && moov < boxes.indexOf(c.fragmented ? 'moof' : 'mdat'),
          `boxes: ${boxes.join(' ')}`,
        );
        if (c.fragmented) assert.ok(boxes.includes('moof'), 'fragmented output has movie fragments');
      }
      if (c.output.endsWith('.m3u8')) {
        const text = await readFile(out, 'utf8');
        assert.match(text, /#EXT-X-PLAYLIST-TYPE:VOD/);
        assert.match(text, /#EXT-X-ENDLIST\n$/);
        assert.equal(/#EXT-X-MAP/.test(text), c.fmp4 === true);
      }
    });
  }
});
