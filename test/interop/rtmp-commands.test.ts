/**
 * NetStream commands real players send besides play: waiting for a later publish, pause and
 * unpause, the end of a publish. Driven with Estuary's own RTMP client over a real socket; the
 * FFmpeg/rtmpdump interop lives in live-core.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { FlvTagReader } from '../../src/formats/flv/tag-reader.js';
import type { RtmpMessage } from '../../src/formats/rtmp/message.js';
import { RtmpClient, type RtmpStatus } from '../../src/rtmp/client.js';
import { publishArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitLive } from '../helpers/origin.js';
import { start } from '../helpers/run.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { requireTool } from '../helpers/tools.js';

const FIXTURE = new URL('../fixtures/media/h264-aac-3s.flv', import.meta.url).pathname;

/** Publishes the fixture's tags with our client, as fast as the socket takes them. */
async function publishFixture(url: string, realtime = false): Promise<RtmpClient> {
  const client = await RtmpClient.connect(url);
  await client.publish();
  const tags = new FlvTagReader().push(readFileSync(FIXTURE));
  const t0 = Date.now();
  for (const tag of tags) {
    if (realtime) {
      const wait = tag.timestamp - (Date.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    if (!client.writeMedia(tag.type, tag.timestamp, tag.body)) await client.drained();
  }
  return client;
}

function collect(client: RtmpClient) {
  const statuses: string[] = [];
  const media: RtmpMessage[] = [];
  client.on('status', (s: RtmpStatus) => statuses.push(s.code));
  client.on('media', (m: RtmpMessage) => media.push(m));
  return { statuses, media };
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('RTMP NetStream commands', { timeout: 60_000 }, () => {
  let o: TestOrigin;
  before(async () => {
    o = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
  });
  after(async () => {
    await o?.stop();
  });

  test('play before publish waits, then gets PublishNotify, media and UnpublishNotify', async () => {
    const player = await RtmpClient.connect(o.rtmpUrl('live/later'));
    const seen = collect(player);
    await player.play();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(seen.media.filter((m) => m.type !== 18).length, 0, 'media before any publish');
    const pub = await publishFixture(o.rtmpUrl('live/later'));
    await until(() => seen.media.filter((m) => m.type === 9).length >= 75, 'all video');
    await pub.end();
    await until(() => seen.statuses.includes('NetStream.Play.UnpublishNotify'), 'UnpublishNotify');
    assert.ok(seen.statuses.includes('NetStream.Play.PublishNotify'), seen.statuses.join());
    const video = seen.media.filter((m) => m.type === 9);
    assert.equal(video[0]!.payload[1], 0, 'first video message is the AVC sequence header');
    assert.equal(video[1]!.payload[0]! >> 4, 1, 'first coded frame is a keyframe');
    assert.equal(player.isClosed, false, 'the player stays connected and may wait for a new publish');
    player.close('done');
  });

  test('pause stops the media, unpause resumes from a keyframe', async () => {
    const pub = await RtmpClient.connect(o.rtmpUrl('live/pause'));
    await pub.publish();
    const tags = new FlvTagReader().push(readFileSync(FIXTURE));
    let i = 0;
    const pump = setInterval(() => {
      // A steady stream, looping over the fixture's tags at ~4x real time.
      for (let n = 0; n < 7; n++, i++) {
        const tag = tags[i % tags.length]!;
        const loop = Math.floor(i / tags.length);
        const isHeader = (tag.type === 9 || tag.type === 8) && tag.body[1] === 0;
        if (loop > 0 && (isHeader || tag.type === 18)) continue;
        pub.writeMedia(tag.type, tag.timestamp + loop * 3100, tag.body);
      }
    }, 25);
    try {
      await waitLive(o.origin, 'live/pause');
      const player = await RtmpClient.connect(o.rtmpUrl('live/pause'));
      const seen = collect(player);
      await player.play();
      await until(() => seen.media.length > 20, 'media');
      player.sendCommand('pause', [true, 0]);
      await until(() => seen.statuses.includes('NetStream.Pause.Notify'), 'Pause.Notify');
      await new Promise((r) => setTimeout(r, 100));
      const atPause = seen.media.length;
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(seen.media.length, atPause, 'media kept coming while paused');
      player.sendCommand('pause', [false, 0]);
      await until(() => seen.statuses.includes('NetStream.Unpause.Notify'), 'Unpause.Notify');
      await until(() => seen.media.length > atPause + 5, 'media after unpause');
      const firstVideo = seen.media.slice(atPause).find((m) => m.type === 9 && m.payload[1] === 1);
      assert.equal(firstVideo!.payload[0]! >> 4, 1, 'resumed on a keyframe');
      player.close('done');
    } finally {
      clearInterval(pump);
      await pub.end();
    }
  });
});

describe('RTMP play of a stream nobody publishes (playWaitTimeoutMs)', { timeout: 60_000 }, () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({
      playWaitTimeoutMs: 1000,
      record: { flv: false, hls: false, mp4: false },
    });
  });
  after(async () => {
    await server?.stop();
  });

  test('FFmpeg on a mistyped name is told StreamNotFound and ends; one that a publish reaches in time plays', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const url = (p: string) => `rtmp://127.0.0.1:${server.ports.rtmp}/${p}`;
    const t0 = Date.now();
    const typo = start(
      ffmpeg,
      ['-v', 'error', '-i', url('live/tpyo'), '-c', 'copy', '-f', 'null', '-'],
      15_000,
    );
    const waiting = start(
      ffmpeg,
      ['-v', 'error', '-i', url('live/soon'), '-c', 'copy', '-f', 'null', '-'],
      15_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    const publisher = start(ffmpeg, publishArgs(FIXTURE, url('live/soon'), true), 15_000);
    const [typoRun, waitingRun, published] = await Promise.all([typo.done, waiting.done, publisher.done]);
    assert.notEqual(typoRun.signal, 'SIGKILL', 'the player on a mistyped name hung');
    assert.notEqual(typoRun.code, 0);
    assert.ok(Date.now() - t0 >= 1000);
    assert.equal(published.code, 0, published.stderr);
    assert.equal(waitingRun.code, 0, `the player that a publish reached in time: ${waitingRun.stderr}`);
    const logs = server.logs();
    assert.ok(
      logs.some(
        (l) => l.msg === 'player waits for a publish' && l.path === 'live/tpyo' && l.timeoutMs === 1000,
      ),
    );
    assert.ok(
      logs.some(
        (l) => l.msg === 'closed' && l.reason === 'refused: live/tpyo was not published within 1000 ms',
      ),
      JSON.stringify(logs.filter((l) => l.msg === 'closed')),
    );
  });
});
