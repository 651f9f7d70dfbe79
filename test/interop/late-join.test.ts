/**
 * A viewer that joins mid-stream sees exactly the published streams, and FFmpeg reading it for
 * 3 s exits with a 3 s file, over HTTP-FLV, RTMP and WS-FLV (FFmpeg cannot read ws://: the
 * binary messages are piped to `ffmpeg -f flv -i pipe:0`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { fixture, publishArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitLive } from '../helpers/origin.js';
import { probe } from '../helpers/probe.js';
import { type Running, type RunResult, run, start } from '../helpers/run.js';
import { requireTool, tools } from '../helpers/tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'estuary-late-'));
const PATH = 'live/late';

/** `ffmpeg -i <input> -t 3 -c copy out.mkv`, killed after 15 s (the report's `timeout 15`). */
function copyThreeSeconds(ffmpeg: string, input: string, out: string, inputArgs: string[] = []): Running {
  return start(
    ffmpeg,
    ['-v', 'error', ...inputArgs, '-i', input, '-t', '3', '-c', 'copy', '-y', out],
    15_000,
  );
}

/** The same, reading a WS-FLV viewer's binary messages on stdin. */
function copyThreeSecondsFromWs(ffmpeg: string, url: string, out: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(
      ffmpeg,
      ['-v', 'error', '-f', 'flv', '-i', 'pipe:0', '-t', '3', '-c', 'copy', '-y', out],
      {
        stdio: ['pipe', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdin.on('error', () => {}); // FFmpeg closes stdin once it has its 3 s
    const ws = new WebSocket(url);
    ws.on('message', (data: Buffer) => child.stdin.write(data));
    ws.on('error', (err) => {
      stderr += `websocket: ${err.message}`;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      ws.terminate();
      resolve({ code, signal, stdout: '', stderr });
    });
  });
}

describe('a viewer joining mid-stream', { timeout: 60_000 }, () => {
  let o: TestOrigin;
  let publisher: Running | undefined;

  before(async () => {
    o = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
    if (!tools.ffmpeg) return;
    publisher = start(tools.ffmpeg, publishArgs(fixture('h264-aac-bframes-10s.flv'), o.rtmpUrl(PATH), true));
    await waitLive(o.origin, PATH);
    // 2.5 s in: the cached GOP starts at the 2 s keyframe, so the join carries a GOP stamped 2000.
    await new Promise((r) => setTimeout(r, 2500));
  });

  after(async () => {
    publisher?.child.kill('SIGKILL');
    await publisher?.done;
    await o?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('ffprobe (HTTP-FLV, RTMP) lists exactly the published streams; ffmpeg -t 3 exits with a 3 s file', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffmpeg || !ffprobe) return;
    const [probed, rtmpProbe, httpRun, rtmpRun, wsRun] = await Promise.all([
      probe(ffprobe, o.flvUrl(PATH)),
      run(ffprobe, ['-v', 'error', '-show_streams', '-of', 'json', o.rtmpUrl(PATH)], 15_000),
      copyThreeSeconds(ffmpeg, o.flvUrl(PATH), join(tmp, 'http.mkv')).done,
      copyThreeSeconds(ffmpeg, o.rtmpUrl(PATH), join(tmp, 'rtmp.mkv')).done,
      copyThreeSecondsFromWs(ffmpeg, o.wsUrl(PATH), join(tmp, 'ws.mkv')),
    ]);
    assert.deepEqual(
      probed.streams.map((s) => `${s.codec_type}:${s.codec_name}`),
      ['video:h264', 'audio:aac'],
      'ffprobe of a running stream',
    );
    assert.equal(rtmpProbe.code, 0, rtmpProbe.stderr);
    assert.deepEqual(
      (JSON.parse(rtmpProbe.stdout) as { streams: { codec_type: string }[] }).streams.map(
        (s) => s.codec_type,
      ),
      ['video', 'audio'],
      'ffprobe of a running stream over RTMP',
    );
    for (const [label, r, file] of [
      ['HTTP-FLV', httpRun, 'http.mkv'],
      ['RTMP', rtmpRun, 'rtmp.mkv'],
      ['WS-FLV', wsRun, 'ws.mkv'],
    ] as const) {
      assert.equal(
        r.code,
        0,
        `${label}: ffmpeg -t 3 did not exit by itself (${r.signal ?? ''}): ${r.stderr}`,
      );
      const got = await probe(ffprobe, join(tmp, file));
      assert.deepEqual(
        got.streams.map((s) => s.codec_type),
        ['video', 'audio'],
        `${label}: the file has exactly the published streams`,
      );
      const duration = Number(got.format.duration);
      assert.ok(Math.abs(duration - 3) < 0.5, `${label}: ${duration} s, expected 3`);
    }
  });
});
