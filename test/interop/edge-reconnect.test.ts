/**
 * Upstream loss that viewers never notice. A tier-2 viewer (FFmpeg reading edge 2 of
 * origin → edge 1 → edge 2 to a file) keeps its connection while (1) the publisher is killed and
 * publishes again, and (2) the origin process is killed and started again on the same ports:
 * frames resume within 3 s of the publisher's return, the timestamps it gets never go back,
 * and FFmpeg decodes the whole file without an error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { EdgeConfig } from '../../src/config/schema.js';
import { startEdge, type TestEdge } from '../helpers/edge.js';
import { fixture } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitLive } from '../helpers/origin.js';
import { assertDecodesClean } from '../helpers/probe.js';
import { type Running, run, start } from '../helpers/run.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { requireTool } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const PATH = 'live/resume';
const tmp = mkdtempSync(join(tmpdir(), 'estuary-reconnect-'));
/** The default backoff (250 ms doubling to 1 s): what the 3 s promise rests on. */
const DEFAULT_BACKOFF: Partial<EdgeConfig> = { reconnectInitialMs: 250, reconnectMaxMs: 1000 };

// ESTUARY_KEEP_TMP=1 keeps the viewers' files for a look at a failure.
after(() => {
  if (!process.env.ESTUARY_KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
});

function publish(ffmpeg: string, rtmpUrl: string, file = 'h264-aac-bframes-10s.flv'): Running {
  return start(
    ffmpeg,
    ['-v', 'error', '-re', '-i', fixture(file), '-c', 'copy', '-f', 'flv', rtmpUrl],
    60_000,
  );
}

/** FFmpeg saving a viewer's stream to a file; `-v warning` so a timestamp it had to fix shows. */
function readToFile(ffmpeg: string, url: string, out: string): Running {
  return start(ffmpeg, ['-v', 'warning', '-i', url, '-c', 'copy', '-f', 'flv', '-y', out], 60_000);
}

/** Frames the stream on `edge` has received so far. */
function framesAt(edge: TestEdge): number {
  return edge.edge.hub.get(PATH)?.framesIn ?? 0;
}

/** Resolves with how long after now `edge` receives new frames (after a pause). */
async function resumeTime(edge: TestEdge, from: number): Promise<number> {
  const before = framesAt(edge);
  await until('frames resume on the tier-2 edge', () => framesAt(edge) > before + 10, 10_000);
  return Date.now() - from;
}

/** Checks per track that decode times strictly increase, in file order. */
async function assertTimestampsIncrease(
  ffprobe: string,
  file: string,
): Promise<{ video: number; audio: number }> {
  const r = await run(ffprobe, [
    '-v',
    'error',
    '-show_entries',
    'packet=codec_type,dts_time',
    '-of',
    'csv=p=0',
    file,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const last = { video: Number.NEGATIVE_INFINITY, audio: Number.NEGATIVE_INFINITY };
  const count = { video: 0, audio: 0 };
  for (const line of r.stdout.trim().split('\n')) {
    const [type, dts] = line.split(',') as ['video' | 'audio', string];
    const t = Number(dts);
    assert.ok(t > last[type], `${type} dts ${t} after ${last[type]} in ${file}`);
    last[type] = t;
    count[type]++;
  }
  return count;
}

/** Stops the FFmpeg reader (SIGTERM: it finishes the file) and checks what it said. */
async function stopReader(reader: Running): Promise<void> {
  assert.equal(reader.child.exitCode, null, 'the reader is still reading: its connection survived');
  reader.child.kill('SIGTERM');
  const r = await reader.done;
  assert.doesNotMatch(r.stderr, /Non-monoton|DTS|out of order|error/i, r.stderr);
}

describe('edge reconnects', { timeout: 90_000 }, () => {
  test('the publisher is killed and publishes again: the tier-2 viewer goes on', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffmpeg || !ffprobe) return;
    const o: TestOrigin = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
    const e1 = await startEdge(`http://127.0.0.1:${o.ports.http}`, DEFAULT_BACKOFF);
    const e2 = await startEdge(e1.base, DEFAULT_BACKOFF);
    let pub = publish(ffmpeg, o.rtmpUrl(PATH));
    let reader: Running | undefined;
    try {
      await waitLive(o.origin, PATH);
      const out = join(tmp, 'republish.flv');
      reader = readToFile(ffmpeg, e2.flvUrl(PATH), out);
      await until(
        'the reader is a tier-2 viewer',
        async () => (await e2.api()).streams[0]?.viewers.total === 1,
      );
      await new Promise((r) => setTimeout(r, 2500));
      pub.child.kill('SIGKILL');
      await pub.done;
      await until('the origin saw the publisher go', () => !o.origin.hub.get(PATH)?.isLive);
      await new Promise((r) => setTimeout(r, 800));
      const back = Date.now();
      pub = publish(ffmpeg, o.rtmpUrl(PATH), 'h264-aac-3s.flv');
      const ms = await resumeTime(e2, back);
      t.diagnostic(`frames resumed on the tier-2 edge ${ms} ms after the publisher came back`);
      assert.ok(ms < 3000, `frames resumed ${ms} ms after the publisher came back`);
      assert.equal((await e2.api()).streams[0]?.viewers.total, 1, 'the viewer never left');
      assert.ok(((await e1.api()).streams[0]?.upstream?.reconnects ?? 0) >= 1);
      await new Promise((r) => setTimeout(r, 1500));
      await stopReader(reader);
      const n = await assertTimestampsIncrease(ffprobe, out);
      assert.ok(n.video > 100, `video frames from both publishes: ${n.video}`);
      await assertDecodesClean(ffmpeg, out);
    } finally {
      reader?.child.kill('SIGKILL');
      pub.child.kill('SIGKILL');
      await e2.stop();
      await e1.stop();
      await o.stop();
    }
  });

  test('the origin process is killed and started again on the same ports: the viewer goes on', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffmpeg || !ffprobe) return;
    const config = { record: { flv: false, hls: false, mp4: false }, logLevel: 'warn' };
    let origin: ServerProcess = await startServerProcess(config);
    const ports = origin.ports;
    const rtmpUrl = `rtmp://127.0.0.1:${ports.rtmp}/${PATH}`;
    const e1 = await startEdge(`http://127.0.0.1:${ports.http}`, DEFAULT_BACKOFF);
    const e2 = await startEdge(e1.base, DEFAULT_BACKOFF);
    let pub = publish(ffmpeg, rtmpUrl);
    let reader: Running | undefined;
    try {
      await until(
        'edge 1 can pull the stream',
        async () => (await fetch(e1.flvUrl(PATH), { method: 'HEAD' })).ok,
      );
      const out = join(tmp, 'restart.flv');
      reader = readToFile(ffmpeg, e2.flvUrl(PATH), out);
      await until(
        'the reader is a tier-2 viewer',
        async () => (await e2.api()).streams[0]?.viewers.total === 1,
      );
      await new Promise((r) => setTimeout(r, 2500));
      origin.running.child.kill('SIGKILL');
      await origin.running.done;
      await pub.done; // the publisher loses its server with it
      await origin.stop();
      origin = await startServerProcess(config, 512, ports);
      const back = Date.now();
      pub = publish(ffmpeg, rtmpUrl, 'h264-aac-3s.flv');
      const ms = await resumeTime(e2, back);
      t.diagnostic(`frames resumed on the tier-2 edge ${ms} ms after the restarted origin's publisher began`);
      assert.ok(ms < 3000, `frames resumed ${ms} ms after the restarted origin's publisher began`);
      const api = await e2.api();
      assert.equal(api.streams[0]?.viewers.total, 1, 'the viewer never left');
      await new Promise((r) => setTimeout(r, 1500));
      await stopReader(reader);
      const n = await assertTimestampsIncrease(ffprobe, out);
      assert.ok(n.video > 100, `video frames from before and after the restart: ${n.video}`);
      await assertDecodesClean(ffmpeg, out);
    } finally {
      reader?.child.kill('SIGKILL');
      pub.child.kill('SIGKILL');
      await e2.stop();
      await e1.stop();
      await origin.stop();
    }
  });

  test('a tier that reconnects to an edge still holding the publish does not show its GOP twice', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffmpeg || !ffprobe) return;
    const o: TestOrigin = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
    const e1 = await startEdge(`http://127.0.0.1:${o.ports.http}`);
    // Edge 2 gives up on a silent upstream after 500 ms, long before edge 1 gives up on its own.
    const e2 = await startEdge(e1.base, { stallTimeoutMs: 500 });
    let pub = publish(ffmpeg, o.rtmpUrl(PATH));
    let reader: Running | undefined;
    try {
      await waitLive(o.origin, PATH);
      const out = join(tmp, 'same-timeline.flv');
      reader = readToFile(ffmpeg, e2.flvUrl(PATH), out);
      await until(
        'the reader is a tier-2 viewer',
        async () => (await e2.api()).streams[0]?.viewers.total === 1,
      );
      await new Promise((r) => setTimeout(r, 2500));
      pub.child.kill('SIGKILL');
      await pub.done;
      await until(
        'edge 1 lost its upstream',
        async () => (await e1.api()).streams[0]?.upstream?.state === 'reconnecting',
      );
      const frames = framesAt(e2);
      await until('edge 2 reconnected to edge 1', async () => {
        const s = (await e2.api()).streams[0];
        return (s?.upstream?.reconnects ?? 0) >= 2 && s?.upstream?.state === 'live';
      });
      // Edge 1 sent its cached GOP on each reconnect; edge 2 had all of it already.
      assert.equal(framesAt(e2), frames, 'no frame was taken twice');
      pub = publish(ffmpeg, o.rtmpUrl(PATH), 'h264-aac-3s.flv');
      await resumeTime(e2, Date.now());
      await new Promise((r) => setTimeout(r, 1000));
      await stopReader(reader);
      await assertTimestampsIncrease(ffprobe, out);
      await assertDecodesClean(ffmpeg, out);
    } finally {
      reader?.child.kill('SIGKILL');
      pub.child.kill('SIGKILL');
      await e2.stop();
      await e1.stop();
      await o.stop();
    }
  });
});
