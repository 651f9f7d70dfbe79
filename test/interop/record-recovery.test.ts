/**
 * Never lose a recording (issue 3): the server as a real child process (`estuary serve` from
 * source), FFmpeg publishing in real time.
 *  - kill -9 mid-stream, start again on the same data dir: the start-up recovery logs what it
 *    recovered and completes the MP4 (stream_full.mp4 with every frame the segments held) and,
 *    when the HLS recorder is wired in, the HLS playlist's ENDLIST.
 *  - SIGTERM mid-stream: the server finalises every recording, then exits 0.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, type TestContext, test } from 'node:test';
import { publishArgs } from '../helpers/media.js';
import { assertDecodesClean as assertDecodes, probe, streamOf } from '../helpers/probe.js';
import { type Running, start } from '../helpers/run.js';
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
  await waitFor('the server to listen', () => accepts(rtmp));
  return { proc, rtmp };
}

function publish(ffmpeg: string, rtmp: number, name: string): Running {
  return start(ffmpeg, publishArgs(FIXTURE, `rtmp://127.0.0.1:${rtmp}/live/${name}`, true));
}

/** Video frames in init.mp4 + seg* of a merged output, as ffprobe counts them. */
async function segmentFrames(ffprobe: string, mergeDir: string): Promise<number> {
  const files = [
    'init.mp4',
    ...readdirSync(mergeDir)
      .filter((f) => /^seg\d+\.m4s$/.test(f))
      .sort(),
  ];
  const cat = join(scratch, `cat-${Date.now()}.mp4`);
  writeFileSync(cat, Buffer.concat(files.map((f) => readFileSync(join(mergeDir, f)))));
  return Number(streamOf(await probe(ffprobe, cat), 'video')!.nb_read_packets);
}

function tools(t: TestContext): { ffmpeg: string; ffprobe: string } | undefined {
  const ffmpeg = requireTool(t, 'ffmpeg');
  const ffprobe = requireTool(t, 'ffprobe');
  return ffmpeg && ffprobe ? { ffmpeg, ffprobe } : undefined;
}

describe('recording recovery', { timeout: 90_000 }, () => {
  test('kill -9 mid-stream, restart: the recording is recovered into a valid stream_full.mp4', async (t) => {
    const tl = tools(t);
    if (!tl) return;
    const dataDir = join(scratch, 'killed');
    const first = await serve(dataDir);
    const pub = publish(tl.ffmpeg, first.rtmp, 'crash');
    const rec = join(dataDir, 'mp4', 'live', 'crash');
    const merge = join(rec, 'output_merge');
    // Two whole ~2 s segments on disk, then the crash.
    await waitFor('two segments', () => existsSync(join(merge, 'seg000002.m4s')));
    first.proc.child.kill('SIGKILL');
    await first.proc.done;
    pub.child.kill('SIGKILL');
    await pub.done;
    assert.ok(existsSync(join(rec, '.recording')), 'a crash leaves the marker');
    assert.ok(!existsSync(join(merge, 'stream_full.mp4')));

    const second = await serve(dataDir);
    second.proc.child.kill('SIGTERM');
    const out = await second.proc.done;
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /recovered the recording into stream_full\.mp4/);
    assert.ok(!existsSync(join(rec, '.recording')), 'the marker is gone after recovery');

    const full = join(merge, 'stream_full.mp4');
    await assertDecodes(tl.ffmpeg, full);
    const frames = Number(streamOf(await probe(tl.ffprobe, full), 'video')!.nb_read_packets);
    assert.ok(frames >= 100, `${frames} video frames`);
    assert.equal(frames, await segmentFrames(tl.ffprobe, merge), 'every frame the segments held');
    assert.match(readFileSync(join(merge, 'index.m3u8'), 'utf8'), /#EXT-X-ENDLIST\n$/);
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
    await waitFor('a first segment', () => existsSync(join(merge, 'seg000001.m4s')));
    await new Promise((r) => setTimeout(r, 500));
    server.proc.child.kill('SIGTERM');
    const out = await server.proc.done;
    pub.child.kill('SIGKILL');
    await pub.done;
    assert.equal(out.code, 0, `exit code ${out.code}: ${out.stderr}`);
    assert.ok(!existsSync(join(dataDir, 'mp4', 'live', 'term', '.recording')));
    const full = join(merge, 'stream_full.mp4');
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
});
