/**
 * The MP4 recording (record.mp4) against real FFmpeg: publish fixtures over RTMP (no -re: the
 * whole file arrives in well under a second and the recorder still gets every frame), stop the
 * origin (which finalises the recording) and let FFmpeg decode and ffprobe count every output:
 * the merged segments (init.mp4 + seg*), the fMP4 HLS listing, {stream}_full.mp4, and the
 * per-track outputs of output_separate.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, type TestContext, test } from 'node:test';
import { publishArgs } from '../helpers/media.js';
import { startOrigin, waitEnded, waitLive } from '../helpers/origin.js';
import { assertDecodesClean as assertDecodes, packetTimes, probe, streamOf } from '../helpers/probe.js';
import { run, start } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';

const MEDIA = new URL('../fixtures/media/', import.meta.url).pathname;
const BFRAMES_10S = join(MEDIA, 'h264-aac-bframes-10s.flv');
const scratch = mkdtempSync(join(tmpdir(), 'estuary-rec-mp4-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Tools {
  ffmpeg: string;
  ffprobe: string;
}

function tools(t: TestContext): Tools | undefined {
  const ffmpeg = requireTool(t, 'ffmpeg');
  const ffprobe = requireTool(t, 'ffprobe');
  return ffmpeg && ffprobe ? { ffmpeg, ffprobe } : undefined;
}

/** Concatenates an init segment and its media segments (in name order) into one file. */
function concat(dir: string, init: string, prefix: string, out: string): string {
  const segs = readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.m4s'))
    .sort();
  assert.ok(segs.length > 0, `no ${prefix}* segments in ${dir}`);
  writeFileSync(out, Buffer.concat([init, ...segs].map((f) => readFileSync(join(dir, f)))));
  return out;
}

/** Top-level box types of a file, read from its headers. */
function topLevelBoxes(path: string): string[] {
  const buf = readFileSync(path);
  const types: string[] = [];
  for (let off = 0; off + 8 <= buf.length; ) {
    let size = buf.readUInt32BE(off);
    types.push(buf.toString('latin1', off + 4, off + 8));
    if (size === 1) size = Number(buf.readBigUInt64BE(off + 8));
    if (size < 8) break;
    off += size;
  }
  return types;
}

/** Publishes a fixture (whole file at once unless `realtime`) and returns the recording folder once finalised. */
async function record(fixture: string, name: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const o = await startOrigin({ record: { flv: false, hls: false, mp4: true } });
  const ffmpeg = (await import('../helpers/tools.js')).tools.ffmpeg!;
  const pub = await run(ffmpeg, publishArgs(fixture, o.rtmpUrl(`live/${name}`)));
  assert.equal(pub.code, 0, `publisher failed: ${pub.stderr}`);
  await waitEnded(o.origin, `live/${name}`);
  await o.origin.stop();
  return { dir: join(o.dataDir, 'mp4', 'live', name), cleanup: () => o.stop() };
}

describe('MP4 recording', { timeout: 120_000 }, () => {
  test('H.264 High with B-frames + AAC, 10 s: every output decodes, counts and timing match', async (t) => {
    const tl = tools(t);
    if (!tl) return;
    const rec = await record(BFRAMES_10S, 'bframes');
    t.after(rec.cleanup);
    const merge = join(rec.dir, 'output_merge');
    const sep = join(rec.dir, 'output_separate');
    assert.ok(!existsSync(join(rec.dir, '.recording')), 'the marker is removed at the end');

    const mergedCat = concat(merge, 'init.mp4', 'seg_', join(scratch, 'merged.mp4'));
    await assertDecodes(tl.ffmpeg, mergedCat);
    await assertDecodes(tl.ffmpeg, join(merge, 'index.m3u8'), ['-allowed_extensions', 'ALL']);
    // The seed's name: {stream}_full.mp4 (live/bframes gives bframes_full.mp4).
    const full = join(merge, 'bframes_full.mp4');
    await assertDecodes(tl.ffmpeg, full);

    const listing = readFileSync(join(merge, 'index.m3u8'), 'utf8');
    assert.match(listing, /#EXT-X-MAP:URI="init.mp4"/);
    assert.match(listing, /#EXT-X-ENDLIST\n$/);
    // ~2 s segments cut on the fixture's 2 s GOP: 5 of them.
    assert.equal(listing.match(/#EXTINF/g)?.length, 5);

    const boxes = topLevelBoxes(full);
    assert.deepEqual(boxes.slice(0, 3), ['ftyp', 'moov', 'mdat'], 'fast start: moov before mdat');

    const src = await probe(tl.ffprobe, BFRAMES_10S);
    const srcTimes = await packetTimes(tl.ffprobe, BFRAMES_10S);
    for (const out of [full, mergedCat]) {
      const p = await probe(tl.ffprobe, out);
      const v = streamOf(p, 'video')!;
      const a = streamOf(p, 'audio')!;
      assert.equal(v.codec_name, 'h264');
      assert.equal(a.codec_name, 'aac');
      assert.equal(v.width, 320);
      assert.equal(v.height, 240);
      assert.equal(v.nb_read_packets, '250', `${out}: video frames`);
      assert.equal(a.nb_read_packets, streamOf(src, 'audio')!.nb_read_packets, `${out}: audio frames`);
      const times = await packetTimes(tl.ffprobe, out);
      for (const kind of ['video', 'audio'] as const) {
        const want = srcTimes[kind].last - srcTimes[kind].first;
        const got = times[kind].last - times[kind].first;
        assert.ok(Math.abs(got - want) <= 0.2, `${out}: ${kind} duration ${got} vs ${want}`);
      }
      assert.ok(
        Math.abs(times.video.first - times.audio.first) <= 0.05,
        `${out}: a/v start ${times.video.first} / ${times.audio.first}`,
      );
      assert.ok(times.video.keyframeFirst, `${out}: first video packet is a keyframe`);
    }
    const fullDuration = Number((await probe(tl.ffprobe, full)).format.duration);
    assert.ok(Math.abs(fullDuration - 10) <= 0.2, `bframes_full.mp4 lasts ${fullDuration} s`);

    const videoCat = concat(sep, 'video_init.mp4', 'video_', join(scratch, 'video.mp4'));
    const audioCat = concat(sep, 'audio_init.mp4', 'audio_', join(scratch, 'audio.mp4'));
    await assertDecodes(tl.ffmpeg, videoCat);
    await assertDecodes(tl.ffmpeg, audioCat);
    await assertDecodes(tl.ffmpeg, join(sep, 'video.m3u8'), ['-allowed_extensions', 'ALL']);
    await assertDecodes(tl.ffmpeg, join(sep, 'audio.m3u8'), ['-allowed_extensions', 'ALL']);
    assert.equal(streamOf(await probe(tl.ffprobe, videoCat), 'video')!.nb_read_packets, '250');
    assert.equal(
      streamOf(await probe(tl.ffprobe, audioCat), 'audio')!.nb_read_packets,
      streamOf(src, 'audio')!.nb_read_packets,
    );
  });

  test('meta.json for MSE players, and a master output_separate/index.m3u8 that FFmpeg plays', async (t) => {
    const tl = tools(t);
    if (!tl) return;
    const rec = await record(BFRAMES_10S, 'meta');
    t.after(rec.cleanup);
    // What ffprobe says of the source: H.264 High (profile_idc 100 = 0x64) level 1.3, AAC-LC.
    const src = (
      JSON.parse(
        (
          await run(tl.ffprobe, [
            ...[
              '-v',
              'error',
              '-show_entries',
              'stream=codec_name,profile,level,width,height,sample_rate,channels',
            ],
            ...['-of', 'json', BFRAMES_10S],
          ])
        ).stdout,
      ) as { streams: Record<string, string | number>[] }
    ).streams;
    const v = src.find((x) => x.codec_name === 'h264')!;
    const a = src.find((x) => x.codec_name === 'aac')!;
    assert.equal(v.profile, 'High');
    const avc1 = new RegExp(`^avc1\\.64[0-9a-f]{2}${Number(v.level).toString(16).padStart(2, '0')}$`);

    const merged = JSON.parse(readFileSync(join(rec.dir, 'output_merge', 'meta.json'), 'utf8'));
    assert.match(merged.video.codec, avc1);
    assert.equal(merged.audio.codec, 'mp4a.40.2', 'AAC-LC');
    assert.equal(merged.mimeType, `video/mp4; codecs="${merged.video.codec}, mp4a.40.2"`);
    assert.deepEqual([merged.video.width, merged.video.height], [v.width, v.height]);
    assert.deepEqual([merged.audio.sampleRate, merged.audio.channels], [Number(a.sample_rate), a.channels]);
    assert.equal(merged.init, 'init.mp4');
    assert.equal(merged.ended, true);
    assert.equal(merged.full, 'meta_full.mp4');
    assert.ok(Math.abs(merged.duration - 10) < 0.2, `duration ${merged.duration}`);
    const listed = readFileSync(join(rec.dir, 'output_merge', 'index.m3u8'), 'utf8');
    assert.deepEqual(
      merged.segments.map((x: { uri: string }) => x.uri),
      [...listed.matchAll(/^(seg_.*\.m4s)$/gm)].map((m) => m[1]),
    );

    const sep = join(rec.dir, 'output_separate');
    const separate = JSON.parse(readFileSync(join(sep, 'meta.json'), 'utf8'));
    assert.equal(separate.video.init, 'video_init.mp4');
    assert.equal(separate.audio.init, 'audio_init.mp4');
    assert.equal(separate.video.mimeType, `video/mp4; codecs="${merged.video.codec}"`);
    assert.equal(separate.audio.mimeType, 'audio/mp4; codecs="mp4a.40.2"');
    assert.equal(separate.video.segments.length, merged.segments.length);
    assert.equal(separate.ended, true);

    const master = readFileSync(join(sep, 'index.m3u8'), 'utf8');
    assert.match(master, /#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",.*URI="audio.m3u8"/);
    assert.match(
      master,
      /#EXT-X-STREAM-INF:BANDWIDTH=\d+,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2",RESOLUTION=320x240,AUDIO="audio"\nvideo.m3u8/,
    );
    // One URL plays the separate tracks: FFmpeg reads both renditions, silently.
    const decoded = await run(tl.ffmpeg, ['-v', 'error', '-i', join(sep, 'index.m3u8'), '-f', 'null', '-']);
    assert.equal(decoded.code, 0, decoded.stderr);
    assert.equal(decoded.stderr.trim(), '', decoded.stderr);
    const p = await probe(tl.ffprobe, join(sep, 'index.m3u8'));
    assert.deepEqual(p.streams.map((x) => x.codec_name).sort(), ['aac', 'h264']);
  });

  for (const [fixture, kind] of [
    ['video-only-3s.flv', 'video'],
    ['audio-only-3s.flv', 'audio'],
  ] as const) {
    test(`${kind}-only publish`, async (t) => {
      const tl = tools(t);
      if (!tl) return;
      const input = join(MEDIA, fixture);
      const rec = await record(input, `${kind}only`);
      t.after(rec.cleanup);
      const merge = join(rec.dir, 'output_merge');
      const full = join(merge, `${kind}only_full.mp4`);
      await assertDecodes(tl.ffmpeg, full);
      await assertDecodes(tl.ffmpeg, concat(merge, 'init.mp4', 'seg_', join(scratch, `${kind}-merged.mp4`)));
      const p = await probe(tl.ffprobe, full);
      assert.equal(p.streams.length, 1, `${kind}-only: one stream`);
      const src = streamOf(await probe(tl.ffprobe, input), kind)!;
      assert.equal(streamOf(p, kind)!.nb_read_packets, src.nb_read_packets);
      const sep = readdirSync(join(rec.dir, 'output_separate'));
      const other = kind === 'video' ? 'audio' : 'video';
      assert.ok(sep.includes(`${kind}_init.mp4`) && sep.includes(`${kind}.m3u8`));
      assert.ok(!sep.includes(`${other}_init.mp4`), `no ${other} output for a ${kind}-only stream`);
    });
  }

  test('a publisher killed mid-stream still leaves a valid {stream}_full.mp4', async (t) => {
    const tl = tools(t);
    if (!tl) return;
    const o = await startOrigin({ record: { flv: false, hls: false, mp4: true } });
    t.after(() => o.stop());
    const pub = start(tl.ffmpeg, publishArgs(BFRAMES_10S, o.rtmpUrl('live/killed'), true));
    await waitLive(o.origin, 'live/killed');
    await new Promise((r) => setTimeout(r, 2500));
    pub.child.kill('SIGKILL');
    await pub.done;
    await o.origin.stop();
    const full = join(o.dataDir, 'mp4', 'live', 'killed', 'output_merge', 'killed_full.mp4');
    await assertDecodes(tl.ffmpeg, full);
    const p = await probe(tl.ffprobe, full);
    const frames = Number(streamOf(p, 'video')!.nb_read_packets);
    assert.ok(frames >= 50 && frames < 250, `${frames} video frames for ~2.5 s of a 10 s stream`);
    assert.ok(streamOf(p, 'audio'), 'audio recorded too');
  });
});
