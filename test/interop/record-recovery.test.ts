/**
 * Never lose a recording (issue 3): the server as a real child process (`estuary serve` from
 * source), FFmpeg publishing in real time.
 *  - kill -9 mid-stream, start again on the same data dir: the start-up recovery logs what it
 *    recovered and completes the MP4 ({stream}_full.mp4 with every frame the segments held) and,
 *    when the HLS recorder is wired in, the HLS playlist's ENDLIST.
 *  - SIGTERM mid-stream: the server finalises every recording, then exits 0.
 *  - kill -9 while the open segments are half written: recovery salvages them, so the recovered
 *    HLS and MP4 end within one video frame of the FLV (which has every frame).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, type TestContext, test } from 'node:test';
import { FlvTagReader } from '../../src/formats/flv/tag-reader.js';
import { publishArgs } from '../helpers/media.js';
import { assertDecodesClean as assertDecodes, packetTimes, probe, streamOf } from '../helpers/probe.js';
import { type Running, run, start } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';
import { accepts, freePort, until as waitFor } from '../helpers/wait.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const FIXTURE = join(ROOT, 'test/fixtures/media/h264-aac-bframes-10s.flv');
const scratch = mkdtempSync(join(tmpdir(), 'estuary-recovery-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Whether the HLS recorder is wired into the origin (it is written in parallel; check it only then). */
const HLS_WIRED = /RECORDERS[^=]*=\s*\[[^\]]*hlsRecorderFactory/.test(
  readFileSync(join(ROOT, 'src/origin/origin.ts'), 'utf8'),
);

interface Server {
  proc: Running;
  rtmp: number;
  http: number;
}

async function serve(dataDir: string): Promise<Server> {
  const [rtmp, http, web] = [await freePort(), await freePort(), await freePort()];
  const args = ['--import', 'tsx', join(ROOT, 'src/cli/run.ts'), 'serve', '--host', '127.0.0.1'];
  args.push(
    '--rtmp-port',
    String(rtmp),
    '--http-port',
    String(http),
    '--web-port',
    String(web),
    '--data-dir',
    dataDir,
  );
  const proc = start(process.execPath, args, 60_000);
  // The web port is bound last: once it accepts, the server is up (and handles SIGTERM).
  await waitFor('the server to listen', () => accepts(web));
  return { proc, rtmp, http };
}

function publish(ffmpeg: string, rtmp: number, name: string): Running {
  return start(ffmpeg, publishArgs(FIXTURE, `rtmp://127.0.0.1:${rtmp}/live/${name}`, true));
}

/** Video frames in init.mp4 + seg* of a merged output, as ffprobe counts them. */
async function segmentFrames(ffprobe: string, mergeDir: string): Promise<number> {
  const files = [
    'init.mp4',
    ...readdirSync(mergeDir)
      .filter((f) => /^seg_.*\d{6}\.m4s$/.test(f))
      .sort(),
  ];
  const cat = join(scratch, `cat-${Date.now()}.mp4`);
  writeFileSync(cat, Buffer.concat(files.map((f) => readFileSync(join(mergeDir, f)))));
  return Number(streamOf(await probe(ffprobe, cat), 'video')!.nb_read_packets);
}

/** Video frames and the span of their decode times (s): "a frame short" is counted in decode order. */
async function videoDecodeSpan(ffprobe: string, input: string): Promise<{ count: number; span: number }> {
  const r = await run(ffprobe, [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=dts_time', '-of', 'csv=p=0', input],
  ]);
  assert.equal(r.code, 0, r.stderr);
  // With HLS input ffprobe ends each line with ',' and adds blank lines: keep the numbers.
  const dts = r.stdout
    .split('\n')
    .map((l) => Number.parseFloat(l))
    .filter((n) => Number.isFinite(n));
  return { count: dts.length, span: dts[dts.length - 1]! - dts[0]! };
}

function tools(t: TestContext): { ffmpeg: string; ffprobe: string } | undefined {
  const ffmpeg = requireTool(t, 'ffmpeg');
  const ffprobe = requireTool(t, 'ffprobe');
  return ffmpeg && ffprobe ? { ffmpeg, ffprobe } : undefined;
}

describe('recording recovery', { timeout: 90_000 }, () => {
  test('kill -9 mid-stream, restart: the recording is recovered into a valid crash_full.mp4 (the seed name {stream}_full.mp4)', async (t) => {
    const tl = tools(t);
    if (!tl) return;
    const dataDir = join(scratch, 'killed');
    const first = await serve(dataDir);
    const pub = publish(tl.ffmpeg, first.rtmp, 'crash');
    const rec = join(dataDir, 'mp4', 'live', 'crash');
    const merge = join(rec, 'output_merge');
    // Two whole ~2 s segments on disk, then the crash.
    await waitFor(
      'two segments',
      () => existsSync(merge) && readdirSync(merge).some((f) => /_000002\.m4s$/.test(f)),
    );
    first.proc.child.kill('SIGKILL');
    await first.proc.done;
    pub.child.kill('SIGKILL');
    await pub.done;
    assert.ok(existsSync(join(rec, '.recording')), 'a crash leaves the marker');
    assert.ok(!existsSync(join(merge, 'crash_full.mp4')));

    const second = await serve(dataDir);
    second.proc.child.kill('SIGTERM');
    const out = await second.proc.done;
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /recovered the recording into crash_full\.mp4/);
    assert.ok(!existsSync(join(rec, '.recording')), 'the marker is gone after recovery');

    const full = join(merge, 'crash_full.mp4');
    await assertDecodes(tl.ffmpeg, full);
    const frames = Number(streamOf(await probe(tl.ffprobe, full), 'video')!.nb_read_packets);
    assert.ok(frames >= 100, `${frames} video frames`);
    assert.equal(frames, await segmentFrames(tl.ffprobe, merge), 'every frame the segments held');
    assert.match(readFileSync(join(merge, 'index.m3u8'), 'utf8'), /#EXT-X-ENDLIST\n$/);
    const meta = JSON.parse(readFileSync(join(merge, 'meta.json'), 'utf8'));
    assert.deepEqual([meta.ended, meta.full], [true, 'crash_full.mp4'], 'meta.json completed too');
    if (HLS_WIRED) {
      const hls = readFileSync(join(dataDir, 'hls', 'live', 'crash', 'index.m3u8'), 'utf8');
      assert.match(hls, /#EXT-X-ENDLIST/);
    }
  });

  test('SIGTERM mid-stream: every recording is finalised, then the server exits 0', async (t) => {
    const tl = tools(t);
    if (!tl) return;
    const dataDir = join(scratch, 'term');
    const server = await serve(dataDir);
    const pub = publish(tl.ffmpeg, server.rtmp, 'term');
    const merge = join(dataDir, 'mp4', 'live', 'term', 'output_merge');
    await waitFor(
      'a first segment',
      () => existsSync(merge) && readdirSync(merge).some((f) => /_000001\.m4s$/.test(f)),
    );
    await new Promise((r) => setTimeout(r, 500));
    server.proc.child.kill('SIGTERM');
    const out = await server.proc.done;
    pub.child.kill('SIGKILL');
    await pub.done;
    assert.equal(out.code, 0, `exit code ${out.code}: ${out.stderr}`);
    assert.ok(!existsSync(join(dataDir, 'mp4', 'live', 'term', '.recording')));
    const full = join(merge, 'term_full.mp4');
    await assertDecodes(tl.ffmpeg, full);
    assert.equal(
      Number(streamOf(await probe(tl.ffprobe, full), 'video')!.nb_read_packets),
      await segmentFrames(tl.ffprobe, merge),
    );
    if (HLS_WIRED) {
      assert.match(
        readFileSync(join(dataDir, 'hls', 'live', 'term', 'index.m3u8'), 'utf8'),
        /#EXT-X-ENDLIST/,
      );
    }
  });

  test('kill -9 with segments half written: HLS and MP4 are salvaged to within a frame of the FLV', async (t) => {
    const tl = tools(t);
    if (!tl) return;
    const dataDir = join(scratch, 'salvage');
    const first = await serve(dataDir);
    // The first 5.3 s of the fixture's tags (mid-GOP: the third segment is open), sent over
    // HTTP-FLV; then the publisher holds the connection open and sends nothing.
    const src = readFileSync(FIXTURE);
    const reader = new FlvTagReader();
    reader.push(src.subarray(0, 13));
    let cut = 13;
    for (const tag of reader.push(src.subarray(13))) {
      if (tag.timestamp > 5300) break;
      cut += 11 + tag.body.length + 4;
    }
    const post = request({ host: '127.0.0.1', port: first.http, path: '/live/salvage', method: 'POST' });
    post.on('error', () => {}); // the server is killed under it
    post.write(src.subarray(0, cut));
    const files = () =>
      ['flv', 'hls', 'mp4'].flatMap((k) => {
        const d = join(dataDir, k, 'live', 'salvage');
        return existsSync(d) ? readdirSync(d, { recursive: true }).map((f) => join(d, String(f))) : [];
      });
    const sizes = () =>
      files()
        .map((f) => `${f}:${existsSync(f) ? statSync(f).size : 0}`)
        .join(',');
    await waitFor('the FLV recording', () => files().some((f) => f.endsWith('.flv')));
    // Every recorder has written what it got once the files stop changing.
    let last = '';
    let stable = 0;
    await waitFor('the recorders to catch up', () => {
      const now = sizes();
      stable = now === last ? stable + 1 : 0;
      last = now;
      return stable >= 12;
    });
    first.proc.child.kill('SIGKILL');
    await first.proc.done;
    post.destroy();

    const second = await serve(dataDir);
    second.proc.child.kill('SIGTERM');
    const out = await second.proc.done;
    assert.equal(out.code, 0, out.stderr);
    assert.ok(!files().some((f) => f.endsWith('.part')), 'every .part salvaged');
    const flvDir = join(dataDir, 'flv', 'live', 'salvage');
    // The FLV's sidecar (it was growing) is gone, and its duration patched in as at a clean end.
    assert.deepEqual(
      readdirSync(flvDir).filter((f) => f.endsWith('.recording')),
      [],
    );
    const flv = join(flvDir, readdirSync(flvDir)[0]!);
    const flvDuration = Number((await probe(tl.ffprobe, flv)).format.duration);
    assert.ok(flvDuration > 5 && flvDuration < 5.4, `FLV duration ${flvDuration} s after recovery`);
    const hls = join(dataDir, 'hls', 'live', 'salvage', 'index.m3u8');
    const mp4 = join(dataDir, 'mp4', 'live', 'salvage', 'output_merge', 'salvage_full.mp4');
    assert.match(readFileSync(hls, 'utf8'), /#EXT-X-ENDLIST\n$/);
    const want = await videoDecodeSpan(tl.ffprobe, flv);
    const flvAv = await packetTimes(tl.ffprobe, flv);
    assert.ok(want.span > 5, `the FLV holds the 5.3 s sent (${want.span} s)`);
    for (const file of [hls, mp4]) {
      await assertDecodes(tl.ffmpeg, file);
      const got = await videoDecodeSpan(tl.ffprobe, file);
      const missing = want.count - got.count;
      assert.ok(missing >= 0 && missing <= 1, `${file}: ${got.count} video frames, the FLV ${want.count}`);
      const short = want.span - got.span;
      assert.ok(short >= -0.001 && short <= 0.041, `${file}: ends ${short} s before the FLV`);
      // Audio too, up to about the last video frame (on each file's own clock: HLS adds 1.4 s).
      const a = await packetTimes(tl.ffprobe, file);
      const audioShort = flvAv.audio.last - flvAv.video.first - (a.audio.last - a.video.first);
      assert.ok(audioShort >= -0.001 && audioShort <= 0.07, `${file}: audio ends ${audioShort} s early`);
    }
  });
});
