/**
 * The live HLS recording against FFmpeg/ffprobe: a publish by real FFmpeg becomes TS segments and
 * an index.m3u8 that decode cleanly, keep every frame and end with #EXT-X-ENDLIST; the sliding
 * window, a second session of the same name and a live-window timing check.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseMediaPlaylist } from '../../src/formats/m3u8/parse-playlist.js';
import { fixture as media, publishArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitEnded, waitLive } from '../helpers/origin.js';
import { assertDecodesClean, packetTimes, probe, streamOf } from '../helpers/probe.js';
import { run, start } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';

const ONLY_HLS = { record: { flv: false, hls: true, mp4: false } };
const PATH = 'live/x';

/** Publishes a fixture as fast as FFmpeg reads it, then waits until every recorder finished. */
async function publish(o: TestOrigin, ffmpeg: string, fixture: string): Promise<void> {
  const pub = await run(ffmpeg, publishArgs(media(fixture), o.rtmpUrl(PATH)));
  assert.equal(pub.code, 0, pub.stderr);
  await waitEnded(o.origin, PATH);
}

/** The folder is complete: ENDLIST, no marker, no temporary file, exactly the listed segments. */
function assertFinished(dir: string): ReturnType<typeof parseMediaPlaylist> {
  const playlist = parseMediaPlaylist(readFileSync(join(dir, 'index.m3u8'), 'utf8'));
  assert.equal(playlist.ended, true, 'the playlist ends with #EXT-X-ENDLIST');
  const files = readdirSync(dir);
  assert.ok(!files.includes('.recording'), 'the .recording marker was removed');
  assert.deepEqual(
    files.filter((f) => f.endsWith('.tmp')),
    [],
  );
  const segments = files.filter((f) => f.endsWith('.ts')).sort();
  assert.deepEqual(
    segments,
    playlist.segments.map((s) => s.uri),
  );
  return playlist;
}

/** Every packet has pts >= dts (B-frames reorder presentation, never before decode). */
async function assertPtsNotBeforeDts(ffprobe: string, input: string): Promise<void> {
  const r = await run(ffprobe, [
    '-v',
    'error',
    '-of',
    'json',
    '-show_entries',
    'packet=stream_index,pts,dts',
    input,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const { packets } = JSON.parse(r.stdout) as {
    packets: { stream_index: number; pts: number; dts: number }[];
  };
  assert.ok(packets.length > 0);
  for (const p of packets) assert.ok(p.pts >= p.dts, `stream ${p.stream_index}: pts ${p.pts} < dts ${p.dts}`);
}

describe('HLS recording', { timeout: 120_000 }, () => {
  for (const fixture of ['h264-aac-bframes-10s.flv', 'video-only-3s.flv', 'audio-only-3s.flv']) {
    test(`records ${fixture}: clean decode, every frame, the source's duration`, async (t) => {
      const ffmpeg = requireTool(t, 'ffmpeg');
      const ffprobe = requireTool(t, 'ffprobe');
      if (!ffmpeg || !ffprobe) return;
      const o = await startOrigin({ ...ONLY_HLS, hlsWindow: 0 });
      try {
        await publish(o, ffmpeg, fixture);
        const dir = join(o.dataDir, 'hls', PATH);
        const playlist = assertFinished(dir);
        assert.equal(playlist.playlistType, 'VOD', 'the ended playlist lists the whole session');
        assert.equal(playlist.mediaSequence, 0);
        const index = join(dir, 'index.m3u8');
        await assertDecodesClean(ffmpeg, index);
        const [src, got] = await Promise.all([probe(ffprobe, media(fixture)), probe(ffprobe, index)]);
        for (const kind of ['video', 'audio'] as const) {
          const a = streamOf(src, kind);
          const b = streamOf(got, kind);
          assert.equal(b?.codec_name, a?.codec_name, `${kind} codec`);
          assert.equal(b?.nb_read_packets, a?.nb_read_packets, `${kind} frame count`);
        }
        const video = streamOf(got, 'video');
        if (video) assert.equal(`${video.width}x${video.height}`, '320x240');
        if (fixture.startsWith('h264-aac-bframes')) assert.equal(video?.nb_read_packets, '250');
        const drift = Math.abs(Number(got.format.duration) - Number(src.format.duration));
        assert.ok(drift <= 0.2, `duration ${got.format.duration} s vs source ${src.format.duration} s`);
        const listed = playlist.segments.reduce((sum, s) => sum + s.duration, 0);
        assert.ok(Math.abs(listed - Number(src.format.duration)) <= 0.2, `EXTINF sum ${listed} s`);
        const times = await packetTimes(ffprobe, index);
        if (times.video.count > 0)
          assert.ok(times.video.keyframeFirst, 'the first video frame is a keyframe');
        if (times.video.count > 0 && times.audio.count > 0) {
          const apart = Math.abs(times.video.first - times.audio.first);
          assert.ok(apart <= 0.05, `audio and video start ${apart} s apart`);
        }
        await assertPtsNotBeforeDts(ffprobe, index);
        // Every segment starts with PAT (PID 0) then PMT (PID 0x1000): playable on its own.
        for (const s of playlist.segments) {
          const seg = readFileSync(join(dir, s.uri));
          assert.equal(seg.length % 188, 0);
          assert.equal(seg.readUInt16BE(1) & 0x1fff, 0x0000, `${s.uri} starts with the PAT`);
          assert.equal(seg.readUInt16BE(188 + 1) & 0x1fff, 0x1000, `${s.uri} has the PMT second`);
        }
      } finally {
        await o.stop();
      }
    });
  }

  test('a live window of 3 keeps every segment and ends with a VOD playlist of all of them', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const o = await startOrigin({ ...ONLY_HLS, hlsWindow: 3, segmentSeconds: 2, hlsGraceSeconds: 0 });
    try {
      await publish(o, ffmpeg, 'h264-aac-bframes-10s.flv');
      const dir = join(o.dataDir, 'hls', PATH);
      const playlist = assertFinished(dir);
      assert.equal(playlist.playlistType, 'VOD');
      assert.equal(playlist.mediaSequence, 0);
      assert.equal(playlist.segments.length, 5, '10 s in 2 s segments, none deleted');
      const listed = playlist.segments.reduce((sum, s) => sum + s.duration, 0);
      assert.ok(Math.abs(listed - 10) < 0.2, `EXTINF sum ${listed} s`);
      await assertDecodesClean(ffmpeg, join(dir, 'index.m3u8'));
    } finally {
      await o.stop();
    }
  });

  test('with hlsCleanup a sliding window of 3 lists the last segments and deletes the older ones', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const o = await startOrigin({
      ...ONLY_HLS,
      hlsWindow: 3,
      segmentSeconds: 2,
      hlsGraceSeconds: 0,
      hlsCleanup: true,
    });
    try {
      await publish(o, ffmpeg, 'h264-aac-bframes-10s.flv');
      const dir = join(o.dataDir, 'hls', PATH);
      const playlist = assertFinished(dir);
      assert.equal(playlist.playlistType, undefined, 'a sliding window is no EVENT playlist');
      assert.equal(playlist.segments.length, 3);
      const total = playlist.mediaSequence + 3;
      assert.ok(total >= 5 && total <= 6, `${total} segments of 2 s from 10 s`);
      // segment_{session id}_{sequence}.ts: the session id keeps URLs unique across sessions.
      assert.deepEqual(
        playlist.segments.map((s) => /^segment_\d{8}_\d{6}_(\d{5})\.ts$/.exec(s.uri)?.[1]),
        [0, 1, 2].map((i) => String(playlist.mediaSequence + i).padStart(5, '0')),
      );
      assert.equal(playlist.targetDuration, 2);
      await assertDecodesClean(ffmpeg, join(dir, 'index.m3u8'));
    } finally {
      await o.stop();
    }
  });

  test('a second publish of the same name keeps the first session under a timestamped folder', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const o = await startOrigin(ONLY_HLS);
    try {
      await publish(o, ffmpeg, 'h264-aac-3s.flv');
      const first = assertFinished(join(o.dataDir, 'hls', PATH));
      await publish(o, ffmpeg, 'video-only-3s.flv');
      const names = readdirSync(join(o.dataDir, 'hls', 'live')).sort();
      assert.equal(names.length, 2, names.join(', '));
      assert.equal(names[0], 'x');
      assert.match(names[1]!, /^x\.\d{8}_\d{6}(-\d+)?$/);
      const kept = assertFinished(join(o.dataDir, 'hls', 'live', names[1]!));
      assert.deepEqual(kept, first, 'the first session is kept as it was');
      assertFinished(join(o.dataDir, 'hls', PATH));
      await assertDecodesClean(ffmpeg, join(o.dataDir, 'hls', 'live', names[1]!, 'index.m3u8'));
    } finally {
      await o.stop();
    }
  });

  test('the first segment is out within target + one GOP; a killed publisher still gets ENDLIST', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const o = await startOrigin(ONLY_HLS);
    const args = publishArgs(media('h264-aac-3s.flv'), o.rtmpUrl(PATH), true);
    const publisher = start(ffmpeg, args, 30_000);
    try {
      await waitLive(o.origin, PATH);
      const live = Date.now();
      const index = join(o.dataDir, 'hls', PATH, 'index.m3u8');
      while (!existsSync(index)) {
        // 2 s target + 2 s GOP (the fixture's keyframes are 2 s apart) + 1 s for a loaded machine.
        assert.ok(Date.now() - live < 5000, 'no playlist 5 s after the publish went live');
        await new Promise((r) => setTimeout(r, 25));
      }
      const live1 = parseMediaPlaylist(readFileSync(index, 'utf8'));
      assert.equal(live1.ended, false);
      assert.equal(live1.segments.length, 1);
      assert.ok(existsSync(join(o.dataDir, 'hls', PATH, live1.segments[0]!.uri)));
      publisher.child.kill('SIGKILL');
      await publisher.done;
      await waitEnded(o.origin, PATH);
      const done = assertFinished(join(o.dataDir, 'hls', PATH));
      assert.ok(done.segments.length >= 1);
      await assertDecodesClean(ffmpeg, index);
    } finally {
      publisher.child.kill('SIGKILL');
      await o.stop();
    }
  });
});
