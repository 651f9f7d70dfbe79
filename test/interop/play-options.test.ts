/**
 * Per-viewer options on every FLV play URL, origin and edge, HTTP-FLV and WS-FLV, read by FFmpeg:
 * `?disableAudio=1` has no audio stream, `?disableVideo=1` no video stream, `?disableGop=1`
 * starts with a keyframe newer than the join. Each audio/video choice is one shared output of
 * the stream (not one per viewer), and disableGop shares the default one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { StreamHub } from '../../src/hub/stream-hub.js';
import { startEdge, type TestEdge } from '../helpers/edge.js';
import { fixture } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitLive } from '../helpers/origin.js';
import { type ProbeStream, probe } from '../helpers/probe.js';
import { type Running, run, start } from '../helpers/run.js';
import { requireTool, tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const PATH = 'live/options';
const tmp = mkdtempSync(join(tmpdir(), 'estuary-options-'));

/** The raw bytes a viewer gets in `ms` (HTTP-FLV body or WS-FLV messages), saved unchanged. */
function capture(url: string, ms: number, file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const done = () => {
      const all = Buffer.concat(chunks);
      writeFileSync(file, all);
      resolve(all.length);
    };
    if (url.startsWith('ws:')) {
      const ws = new WebSocket(url);
      ws.on('message', (d: Buffer) => chunks.push(d));
      ws.on('error', reject);
      setTimeout(() => {
        ws.terminate();
        done();
      }, ms);
      return;
    }
    const req = get(url, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${url}: HTTP ${res.statusCode}`));
      res.on('data', (d: Buffer) => chunks.push(d));
    });
    req.on('error', reject);
    setTimeout(() => {
      req.destroy();
      done();
    }, ms);
  });
}

interface Packet {
  type: string;
  dts: number;
  key: boolean;
}

/** The packets ffprobe reads from `file`, in file order, with their FLV timestamps (ms). */
async function packets(ffprobe: string, file: string): Promise<Packet[]> {
  const r = await run(ffprobe, [
    ...['-v', 'error', '-show_entries', 'packet=codec_type,dts_time,flags', '-of', 'json', file],
  ]);
  assert.equal(r.code, 0, r.stderr);
  const list = (
    JSON.parse(r.stdout) as { packets: { codec_type: string; dts_time: string; flags: string }[] }
  ).packets;
  return list.map((p) => ({
    type: p.codec_type,
    dts: Math.round(Number(p.dts_time) * 1000),
    key: p.flags[0] === 'K',
  }));
}

/** The streams ffprobe finds in a live URL (no packet count: a live stream has no end). */
async function liveStreams(ffprobe: string, url: string): Promise<ProbeStream[]> {
  // One second of analysis: the join write alone holds more (the GOP), so no waiting on the live edge.
  const r = await run(
    ffprobe,
    ['-v', 'error', '-analyzeduration', '1000000', '-show_streams', '-of', 'json', url],
    20_000,
  );
  assert.equal(r.code, 0, `ffprobe failed on ${url}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { streams: ProbeStream[] }).streams;
}

/** The newest frame time of the stream on that server: what a viewer joining now would see next. */
function newestDts(hub: StreamHub): number {
  const frames = hub.get(PATH)!.gop.frames;
  return frames[frames.length - 1]!.dts;
}

describe('per-viewer options', { timeout: 90_000 }, () => {
  let o: TestOrigin;
  let e: TestEdge;
  let publisher: Running | undefined;

  before(async () => {
    o = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
    e = await startEdge(`http://127.0.0.1:${o.ports.http}`);
    if (!tools.ffmpeg) return;
    const input = fixture('h264-aac-bframes-10s.flv');
    publisher = start(
      tools.ffmpeg,
      ['-v', 'error', '-re', '-stream_loop', '-1', '-i', input, '-c', 'copy', '-f', 'flv', o.rtmpUrl(PATH)],
      90_000,
    );
    await waitLive(o.origin, PATH);
  });

  after(async () => {
    publisher?.child.kill('SIGKILL');
    await publisher?.done;
    await e?.stop();
    await o?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const servers = () =>
    [
      ['origin', o.flvUrl(PATH), o.wsUrl(PATH), o.origin.hub],
      ['edge', e.flvUrl(PATH), e.wsUrl(PATH), e.edge.hub],
    ] as const;

  test('?disableAudio=1 / ?disableVideo=1: FFmpeg finds only the other stream (HTTP-FLV)', async (t) => {
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffprobe) return;
    for (const [where, http] of servers()) {
      const noAudio = await liveStreams(ffprobe, `${http}?disableAudio=1`);
      assert.deepEqual(
        noAudio.map((s) => [s.codec_type, s.codec_name]),
        [['video', 'h264']],
        where,
      );
      const noVideo = await liveStreams(ffprobe, `${http}?disableVideo=1`);
      assert.deepEqual(
        noVideo.map((s) => [s.codec_type, s.codec_name]),
        [['audio', 'aac']],
        where,
      );
    }
  });

  test('the same options over WS-FLV: no audio packets / no video packets', async (t) => {
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffprobe) return;
    const check = async ([where, , ws]: ReturnType<typeof servers>[number]) => {
      const a = join(tmp, `${where}-noaudio.flv`);
      const v = join(tmp, `${where}-novideo.flv`);
      await Promise.all([capture(`${ws}?disableAudio=1`, 1500, a), capture(`${ws}?disableVideo=1`, 1500, v)]);
      const pa = await packets(ffprobe, a);
      const pv = await packets(ffprobe, v);
      assert.ok(pa.length > 10 && pa.every((p) => p.type === 'video'), `${where}: video only`);
      assert.ok(pv.length > 10 && pv.every((p) => p.type === 'audio'), `${where}: audio only`);
      assert.deepEqual(
        (await probe(ffprobe, a)).streams.map((s) => s.codec_type),
        ['video'],
      );
    };
    await Promise.all(servers().map(check));
  });

  test('?disableGop=1 starts at a keyframe newer than the join; the default starts with the GOP', async (t) => {
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffprobe) return;
    const check = async ([where, http, ws, hub]: ReturnType<typeof servers>[number], attempt = 1) => {
      const joinedAt = newestDts(hub);
      const files = ['gop', 'nogop-http', 'nogop-ws'].map((n) => join(tmp, `${where}-${n}.flv`));
      // Keyframes come every 2 s: 2.6 s holds the next one.
      await Promise.all([
        capture(http, 2600, files[0]!),
        capture(`${http}?disableGop=1`, 2600, files[1]!),
        capture(`${ws}?disableGop=1`, 2600, files[2]!),
      ]);
      const [gop, noGopHttp, noGopWs] = (await Promise.all(files.map((f) => packets(ffprobe, f)))) as [
        Packet[],
        Packet[],
        Packet[],
      ];
      const firstVideo = (ps: Packet[]) => ps.find((p) => p.type === 'video')!;
      // A keyframe that arrived between reading the join time and FFmpeg's connection starts a
      // new GOP that the default rightly joins: that join is measured again, once.
      const late = firstVideo(gop!).dts - joinedAt;
      if (attempt === 1 && firstVideo(gop!).key && late > 0 && late < 500) {
        return check([where, http, ws, hub], 2);
      }
      assert.ok(
        firstVideo(gop!).key && firstVideo(gop!).dts <= joinedAt,
        `${where}: the default joins the cached GOP`,
      );
      for (const ps of [noGopHttp!, noGopWs!]) {
        const first = ps[0]!;
        assert.equal(first.type, 'video', `${where}: the first frame is video`);
        assert.ok(first.key, `${where}: the first frame is a keyframe`);
        assert.ok(first.dts > joinedAt, `${where}: first frame ${first.dts} ms, joined at ${joinedAt} ms`);
        assert.ok(
          ps.every((p) => p.dts >= first.dts - 100),
          `${where}: nothing from before it`,
        );
      }
    };
    await Promise.all(servers().map(check));
  });

  test('each audio/video choice is one shared output; disableGop shares the default one', async () => {
    const stream = () => o.origin.hub.get(PATH)!;
    // Only the edge's pull (the default output) is left from the tests before.
    await until('earlier viewers are gone', () => stream().subscriberCount <= 1);
    const sockets = await Promise.all(
      [
        '',
        '',
        '?disableGop=1',
        '?disableAudio=1',
        '?disableAudio=1&disableGop=1',
        '?disableVideo=1',
        '?disableVideo=1',
      ].map(
        (q) =>
          new Promise<import('node:http').ClientRequest>((resolve, reject) => {
            const req = get(`${o.flvUrl(PATH)}${q}`, (res) => {
              assert.equal(res.statusCode, 200);
              res.resume();
              resolve(req);
            });
            req.on('error', reject);
          }),
      ),
    );
    try {
      // The default viewers (and the edge's pull) share one output; the other two choices add
      // one each, however many watch them.
      assert.equal(stream().subscriberCount, 3);
      const res = await fetch(`${o.flvUrl(PATH)}?disableAudio=1&disableVideo=1`);
      assert.equal(res.status, 400);
      assert.match(await res.text(), /ERR_PLAY_OPTION/);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
