/**
 * A 650-byte onMetaData whose references expand to 2^30 values, sent over HTTP-FLV POST and as an
 * RTMP @setDataFrame, with the FLV recorder on (it re-encodes metadata into each file): the server
 * stays responsive (a real FFmpeg publish and its viewer keep going), its memory stays put, the
 * metadata is dropped with one warning per stream, and those streams still play and record.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeFlvHeader } from '../../src/formats/flv/header.js';
import { encodeFlvTag } from '../../src/formats/flv/tag.js';
import { FlvTagReader } from '../../src/formats/flv/tag-reader.js';
import { RtmpClient } from '../../src/rtmp/client.js';
import { httpGetStream } from '../helpers/flv-capture.js';
import { metadataReferenceBomb, setDataFrameReferenceBomb } from '../helpers/hostile-amf.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { probe, streamOf } from '../helpers/probe.js';
import { type Running, start } from '../helpers/run.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { requireTool, tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const FIXTURE_3S = fixture('h264-aac-3s.flv');
/** The fixture's audio and video tags, without its own onMetaData. */
const MEDIA_TAGS = new FlvTagReader().push(readFileSync(FIXTURE_3S)).filter((t) => t.type !== 18);
const MB = 1024 * 1024;

describe('an onMetaData reference bomb', { timeout: 90_000 }, () => {
  let server: ServerProcess;
  let publisher: Running | undefined;
  let viewer: Awaited<ReturnType<typeof httpGetStream>> | undefined;
  let viewerBytes = 0;
  let rssBefore = 0;

  before(async () => {
    server = await startServerProcess({ record: { flv: true, hls: false, mp4: false } });
    if (!tools.ffmpeg) return;
    const good = `rtmp://127.0.0.1:${server.ports.rtmp}/live/good`;
    publisher = start(tools.ffmpeg, publishArgs(fixture('h264-aac-bframes-10s.flv'), good, true), 60_000);
    await until('the good stream to play', async () => {
      const res = await httpGetStream(`http://127.0.0.1:${server.ports.http}/live/good.flv`);
      if (res.status === 200) viewer = res;
      else res.destroy();
      return res.status === 200;
    });
    viewer!.onData((c) => {
      viewerBytes += c.length;
    });
    rssBefore = server.rss();
  });

  after(async () => {
    viewer?.destroy();
    publisher?.child.kill('SIGKILL');
    await publisher?.done;
    await server?.stop();
  });

  /** The good stream's viewer received something in the last `ms`. */
  async function viewerKeepsReceiving(ms = 600): Promise<void> {
    const before = viewerBytes;
    await new Promise((r) => setTimeout(r, ms));
    assert.ok(server.alive(), 'the server died');
    assert.ok(viewerBytes > before, 'the good viewer stopped receiving');
  }

  /** The stream's FLV recording holds all of the fixture's audio and video. */
  async function recordedInFull(path: string): Promise<void> {
    const dir = join(server.dataDir, 'flv', path);
    await until(`a recording of ${path}`, () => existsSync(dir) && readdirSync(dir).length > 0, 5000);
    const file = join(dir, readdirSync(dir)[0]!);
    const src = await probe(tools.ffprobe!, FIXTURE_3S);
    let got = await probe(tools.ffprobe!, file);
    // The recorder finishes its file a moment after the publish ended.
    await until(`${path}'s recording to be complete`, async () => {
      got = await probe(tools.ffprobe!, file);
      return streamOf(got, 'video')?.nb_read_packets === streamOf(src, 'video')?.nb_read_packets;
    });
    assert.equal(streamOf(got, 'audio')?.nb_read_packets, streamOf(src, 'audio')?.nb_read_packets);
    assert.deepEqual(
      got.streams.map((s) => s.codec_type),
      ['video', 'audio'],
      'the recording has exactly the published streams',
    );
  }

  function dropWarnings(path: string): Record<string, unknown>[] {
    return server.logs().filter((l) => l.path === path && l.msg === 'metadata dropped; the stream goes on');
  }

  test('over HTTP-FLV POST: dropped with one warning, the stream plays and records', async (t) => {
    if (!requireTool(t, 'ffmpeg') || !requireTool(t, 'ffprobe')) return;
    const bomb = encodeFlvTag(18, 0, metadataReferenceBomb(30));
    const half = MEDIA_TAGS.length >> 1;
    const body = Buffer.concat([
      encodeFlvHeader({ audio: true, video: true }),
      bomb,
      ...MEDIA_TAGS.slice(0, half).map((tag) => encodeFlvTag(tag.type, tag.timestamp, tag.body)),
      bomb, // a second one: still one warning for the stream
      ...MEDIA_TAGS.slice(half).map((tag) => encodeFlvTag(tag.type, tag.timestamp, tag.body)),
    ]);
    const res = await fetch(`http://127.0.0.1:${server.ports.http}/live/bomb-http`, {
      method: 'POST',
      body,
      signal: AbortSignal.timeout(15_000),
    });
    assert.equal(res.status, 200, await res.text());
    await viewerKeepsReceiving();
    assert.ok(server.rss() < rssBefore + 150 * MB, `RSS grew from ${rssBefore} to ${server.rss()}`);
    await recordedInFull('live/bomb-http');
    const warned = dropWarnings('live/bomb-http');
    assert.equal(warned.length, 1, JSON.stringify(warned));
    assert.match(String(warned[0]!.reason), /^ERR_AMF_LIMIT: .*more than 65536 values/);
  });

  test('over RTMP @setDataFrame: dropped with one warning, the stream plays and records', async (t) => {
    if (!requireTool(t, 'ffmpeg') || !requireTool(t, 'ffprobe')) return;
    const url = `rtmp://127.0.0.1:${server.ports.rtmp}/live/bomb-rtmp`;
    const pub = await RtmpClient.connect(url);
    await pub.publish();
    pub.writeMedia(18, 0, setDataFrameReferenceBomb(30));
    const player = await RtmpClient.connect(url);
    let played = 0;
    player.on('media', (m: { type: number }) => {
      if (m.type === 9) played++;
    });
    await player.play();
    for (const tag of MEDIA_TAGS) {
      if (!pub.writeMedia(tag.type, tag.timestamp, tag.body)) await pub.drained();
    }
    await until('the RTMP player to get video', () => played > 10, 10_000);
    await pub.end();
    player.close('test done');
    await viewerKeepsReceiving();
    assert.ok(server.rss() < rssBefore + 150 * MB, `RSS grew from ${rssBefore} to ${server.rss()}`);
    await recordedInFull('live/bomb-rtmp');
    assert.equal(dropWarnings('live/bomb-rtmp').length, 1);
  });
});
