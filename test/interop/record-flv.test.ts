/** The FLV recording against FFmpeg/ffprobe: complete, patched metadata, playable when cut off. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sessionStamp } from '../../src/record/session-folder.js';
import { httpGetStream } from '../helpers/flv-capture.js';
import { fixture as media, publishArgs } from '../helpers/media.js';
import { startOrigin, waitEnded, waitLive } from '../helpers/origin.js';
import { assertDecodesClean, packetTimes, probe, streamOf } from '../helpers/probe.js';
import { run, start } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';

const ONLY_FLV = { record: { flv: true, hls: false, mp4: false } };

function recordedFile(dataDir: string, path: string): string {
  const dir = join(dataDir, 'flv', path);
  const files = readdirSync(dir).filter((f) => /^\d{8}_\d{6}\.flv$/.test(f));
  assert.equal(files.length, 1, `expected one session file in ${dir}, got ${files.join(', ')}`);
  return join(dir, files[0]!);
}

describe('FLV recording', { timeout: 90_000 }, () => {
  for (const fixture of ['h264-aac-bframes-10s.flv', 'video-only-3s.flv', 'audio-only-3s.flv']) {
    test(`records ${fixture} completely`, async (t) => {
      const ffmpeg = requireTool(t, 'ffmpeg');
      const ffprobe = requireTool(t, 'ffprobe');
      if (!ffmpeg || !ffprobe) return;
      const o = await startOrigin(ONLY_FLV);
      const path = 'live/rec';
      try {
        const pub = await run(ffmpeg, publishArgs(media(fixture), o.rtmpUrl(path)));
        assert.equal(pub.code, 0, pub.stderr);
        await waitEnded(o.origin, path);
        const file = recordedFile(o.dataDir, path);
        await assertDecodesClean(ffmpeg, file);
        const src = await probe(ffprobe, media(fixture));
        const got = await probe(ffprobe, file);
        for (const kind of ['video', 'audio'] as const) {
          const a = streamOf(src, kind);
          const b = streamOf(got, kind);
          assert.equal(b?.codec_name, a?.codec_name, `${kind} codec`);
          assert.equal(b?.nb_read_packets, a?.nb_read_packets, `${kind} frame count`);
        }
        const st = await packetTimes(ffprobe, media(fixture));
        const gt = await packetTimes(ffprobe, file);
        for (const kind of ['video', 'audio'] as const) {
          if (st[kind].count === 0) continue;
          const d1 = st[kind].last - st[kind].first;
          const d2 = gt[kind].last - gt[kind].first;
          assert.ok(Math.abs(d1 - d2) <= 0.2, `${kind} duration ${d2} vs ${d1}`);
        }
        if (st.video.count && st.audio.count) {
          assert.ok(Math.abs(gt.video.first - gt.audio.first) <= 0.05, 'audio/video start apart');
        }
        if (fixture.startsWith('h264-aac-bframes')) {
          // The web port serves the recording at the same relative path, with Range.
          const rel = file.slice(o.dataDir.length);
          const viaHttp = await probe(ffprobe, `http://127.0.0.1:${o.ports.web}${rel}`);
          assert.equal(streamOf(viaHttp, 'video')?.nb_read_packets, streamOf(got, 'video')?.nb_read_packets);
          const part = await fetch(`http://127.0.0.1:${o.ports.web}${rel}`, {
            headers: { Range: 'bytes=0-8' },
          });
          assert.equal(part.status, 206);
          assert.equal(part.headers.get('content-type'), 'video/x-flv');
          assert.equal(
            Buffer.from(await part.arrayBuffer())
              .subarray(0, 3)
              .toString(),
            'FLV',
          );
          const outside = await fetch(`http://127.0.0.1:${o.ports.web}/flv/..%2f..%2fetc/passwd`);
          assert.equal(outside.status, 404);
        }
        // onMetaData duration was patched in on the clean end.
        const duration = Number(got.format.duration);
        const srcDuration = Number(src.format.duration);
        assert.ok(Math.abs(duration - srcDuration) <= 0.2, `format duration ${duration} vs ${srcDuration}`);
      } finally {
        await o.stop();
      }
    });
  }

  test('sessions of one name that start in the same second each keep their own file', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffmpeg || !ffprobe) return;
    const o = await startOrigin(ONLY_FLV);
    const path = 'live/same';
    const fixture = media('h264-aac-3s.flv');
    const body = readFileSync(fixture);
    const stamps: string[] = [];
    o.origin.hub.addHooks({ onPublish: (s) => void stamps.push(sessionStamp(new Date(s.publishedAt))) });
    try {
      // Start just after a second begins: an HTTP-FLV POST of 3 s of media takes a few ms, so the
      // next sessions start in the same second (the loop goes on until two did, whatever the load).
      while (Date.now() % 1000 > 100) await new Promise((r) => setTimeout(r, 10));
      while (stamps.length < 10 && new Set(stamps).size === stamps.length) {
        const res = await fetch(`http://127.0.0.1:${o.ports.http}/${path}`, { method: 'POST', body });
        assert.equal(res.status, 200, await res.text());
      }
      await waitEnded(o.origin, path);
      assert.ok(new Set(stamps).size < stamps.length, `no two sessions shared a second: ${stamps}`);
      const dir = join(o.dataDir, 'flv', path);
      const files = readdirSync(dir).sort();
      assert.equal(files.length, stamps.length, `${stamps.length} sessions, files: ${files.join(', ')}`);
      for (const f of files) assert.match(f, /^\d{8}_\d{6}(-\d+)?\.flv$/);
      const want = streamOf(await probe(ffprobe, fixture), 'video')?.nb_read_packets;
      for (const f of files) {
        await assertDecodesClean(ffmpeg, join(dir, f));
        const got = await probe(ffprobe, join(dir, f));
        assert.equal(streamOf(got, 'video')?.nb_read_packets, want, `${f}: every frame of its session`);
      }
    } finally {
      await o.stop();
    }
  });

  test('a publisher killed mid-stream leaves a playable file', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffmpeg || !ffprobe) return;
    const o = await startOrigin(ONLY_FLV);
    const path = 'live/killed';
    try {
      const pub = start(ffmpeg, publishArgs(media('h264-aac-bframes-10s.flv'), o.rtmpUrl(path), true));
      await waitLive(o.origin, path);
      await new Promise((r) => setTimeout(r, 2000));
      pub.child.kill('SIGKILL');
      await pub.done;
      await waitEnded(o.origin, path);
      const file = recordedFile(o.dataDir, path);
      await assertDecodesClean(ffmpeg, file);
      const got = await probe(ffprobe, file);
      assert.ok(Number(streamOf(got, 'video')?.nb_read_packets) >= 40, 'too few video frames recorded');
    } finally {
      await o.stop();
    }
  });

  test('an unwritable data dir stops the recording, not the live stream', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const probeOrigin = await startOrigin(ONLY_FLV);
    const blocker = join(probeOrigin.dataDir, 'not-a-dir');
    writeFileSync(blocker, 'a file where the data dir should be');
    const o = await startOrigin({ ...ONLY_FLV, dataDir: join(blocker, 'data') });
    const path = 'live/nodisk';
    const pub = start(ffmpeg, publishArgs(media('h264-aac-3s.flv'), o.rtmpUrl(path), true));
    try {
      await waitLive(o.origin, path);
      const res = await httpGetStream(o.flvUrl(path));
      assert.equal(res.status, 200);
      let bytes = 0;
      res.onData((c) => {
        bytes += c.length;
      });
      await res.ended;
      assert.ok(bytes > 50_000, `viewer got only ${bytes} bytes`);
      assert.equal((await pub.done).code, 0);
    } finally {
      pub.child.kill('SIGKILL');
      await o.stop();
      await probeOrigin.stop();
    }
  });
});
