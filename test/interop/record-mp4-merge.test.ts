/**
 * A longer recording through the real MP4 recorder, fed directly (no sockets): the 10 s B-frame
 * fixture's frames repeated with increasing timestamps for 3 minutes of media, then finish(),
 * which merges the segments into long_full.mp4. FFmpeg must decode it silently and ffprobe
 * count every frame. The 30-minute version, with the merge's peak RSS, is `npm run bench -- mp4-merge`.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { bufferReader, Mp4Demuxer } from '../../src/formats/mp4/demuxer.js';
import type { LiveStream } from '../../src/hub/live-stream.js';
import { silentLogger } from '../../src/log.js';
import type { MediaFrame } from '../../src/media/frame.js';
import type { AudioTrack, VideoTrack } from '../../src/media/track.js';
import { mp4RecorderFactory } from '../../src/record/fmp4/from-stream.js';
import { RECORDING_MARKER } from '../../src/record/recorder.js';
import { probe, streamOf } from '../helpers/probe.js';
import { run } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';

const FIXTURE = new URL('../fixtures/media/h264-aac-bframes-10s.mp4', import.meta.url).pathname;
/** 18 × 10 s = 3 minutes; each repeat starts 10.1 s after the last (past the fixture's last audio frame). */
const REPEATS = 18;
const PERIOD_MS = 10_100;
const dir = mkdtempSync(join(tmpdir(), 'estuary-merge-long-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('3 minutes of media recorded and merged: long_full.mp4 decodes, frame counts match', {
  timeout: 60_000,
}, async (t) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  const ffprobe = requireTool(t, 'ffprobe');
  if (!ffmpeg || !ffprobe) return;
  const demuxer = await Mp4Demuxer.open(bufferReader(readFileSync(FIXTURE)));
  const frames: MediaFrame[] = [];
  for await (const f of demuxer.frames()) frames.push(f);
  const video = demuxer.tracks.find((d) => d.track.kind === 'video')!.track as VideoTrack;
  const audio = demuxer.tracks.find((d) => d.track.kind === 'audio')!.track as AudioTrack;
  // The recorder reads only the current tracks from its stream; a full LiveStream would need a hub.
  const stream = { videoTrack: video, audioTrack: audio } as unknown as LiveStream;
  const recDir = join(dir, 'mp4', 'live', 'long');
  const ready = (async () => {
    mkdirSync(recDir, { recursive: true });
    writeFileSync(join(recDir, RECORDING_MARKER), 'test\n');
  })();
  const recorder = mp4RecorderFactory.create({
    stream,
    dir: recDir,
    ready,
    startedAt: new Date(),
    log: silentLogger(),
    sessionId: '20250101_000000',
    segmentSeconds: 2,
    hlsWindow: 6,
    hlsCleanup: false,
  });
  for (let k = 0; k < REPEATS; k++) {
    const shift = k * PERIOD_MS;
    for (const f of frames) recorder.onFrame({ ...f, dts: f.dts + shift, pts: f.pts + shift }, stream);
    // Let the queued segment writes run between repeats, as the socket's pace would.
    await new Promise((r) => setImmediate(r));
  }
  await recorder.finish('test end');
  assert.ok(!existsSync(join(recDir, RECORDING_MARKER)), 'the marker goes once the MP4 is complete');

  const full = join(recDir, 'output_merge', 'long_full.mp4');
  const r = await run(ffmpeg, ['-v', 'error', '-i', full, '-f', 'null', '-']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'ffmpeg -v error prints nothing');
  const p = await probe(ffprobe, full);
  const perRepeat = (kind: 'video' | 'audio') => frames.filter((f) => f.track.kind === kind).length;
  assert.equal(Number(streamOf(p, 'video')!.nb_read_packets), perRepeat('video') * REPEATS);
  assert.equal(Number(streamOf(p, 'audio')!.nb_read_packets), perRepeat('audio') * REPEATS);
  const duration = Number(p.format.duration);
  const expected = ((REPEATS - 1) * PERIOD_MS + 10_000) / 1000;
  assert.ok(Math.abs(duration - expected) < 0.2, `duration ${duration} s, expected ~${expected} s`);
});
