/**
 * mpegts.js in Chromium keeps playing an edge's stream across an upstream loss: the publisher is
 * killed and publishes again, the edge reconnects, and the same player (no reload, no new
 * createPlayer) goes on with its clock running and no error event.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { launchChromium } from '../helpers/browser.js';
import { startEdge } from '../helpers/edge.js';
import { fixture } from '../helpers/media.js';
import { startOrigin, waitLive } from '../helpers/origin.js';
import { type Running, start } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const PATH = 'live/browser';

function publish(ffmpeg: string, url: string): Running {
  const input = fixture('h264-aac-bframes-10s.flv');
  return start(
    ffmpeg,
    ['-v', 'error', '-re', '-stream_loop', '-1', '-i', input, '-c', 'copy', '-f', 'flv', url],
    60_000,
  );
}

test('mpegts.js plays through an edge reconnect without a restart', { timeout: 90_000 }, async (t) => {
  const chromiumPath = requireTool(t, 'chromium');
  const ffmpeg = requireTool(t, 'ffmpeg');
  if (!chromiumPath || !ffmpeg) return;
  const o = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
  const e = await startEdge(`http://127.0.0.1:${o.ports.http}`, {
    reconnectInitialMs: 250,
    reconnectMaxMs: 1000,
  });
  let pub = publish(ffmpeg, o.rtmpUrl(PATH));
  const { browser, profile } = await launchChromium(chromiumPath, 'estuary-chromium-edge-');
  try {
    await waitLive(o.origin, PATH);
    const page = browser.pages()[0] ?? (await browser.newPage());
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    // The origin's web port serves the player library; the page plays the edge (CORS *).
    await page.setContent(
      `<video id="v" muted autoplay></video><script src="http://127.0.0.1:${o.ports.web}/vendor/mpegts.js"></script>`,
    );
    await page.waitForFunction(() => 'mpegts' in window);
    await page.evaluate((url) => {
      const w = window as unknown as {
        mpegts: {
          createPlayer: (...a: unknown[]) => Record<string, (...a: unknown[]) => void>;
          Events: Record<string, string>;
        };
        created: number;
        playerErrors: string[];
      };
      w.created = 0;
      w.playerErrors = [];
      const player = w.mpegts.createPlayer({ type: 'flv', isLive: true, url }, { enableWorker: false });
      w.created++;
      player.on!(w.mpegts.Events.ERROR!, (type: unknown, detail: unknown) =>
        w.playerErrors.push(`${type}: ${detail}`),
      );
      player.attachMediaElement!(document.getElementById('v'));
      player.load!();
      void (document.getElementById('v') as HTMLVideoElement).play();
    }, e.flvUrl(PATH));
    const clock = () => page.evaluate(() => (document.getElementById('v') as HTMLVideoElement).currentTime);
    await page.waitForFunction(
      () => (document.getElementById('v') as HTMLVideoElement).currentTime > 1,
      null,
      {
        timeout: 20_000,
      },
    );
    pub.child.kill('SIGKILL');
    await pub.done;
    await until(
      'the edge lost its upstream',
      async () => (await e.api()).streams[0]?.upstream?.state === 'reconnecting',
    );
    await new Promise((r) => setTimeout(r, 1000));
    pub = publish(ffmpeg, o.rtmpUrl(PATH));
    await until(
      'the edge is back',
      async () => (await e.api()).streams[0]?.upstream?.state === 'live',
      10_000,
    );
    const back = await clock();
    // The clock runs on over the new upstream timeline: 3 s more of picture after the return.
    await page.waitForFunction(
      (from) => (document.getElementById('v') as HTMLVideoElement).currentTime > from + 3,
      back,
      {
        timeout: 20_000,
      },
    );
    const state = await page.evaluate(() => {
      const w = window as unknown as { created: number; playerErrors: string[] };
      const v = document.getElementById('v') as HTMLVideoElement;
      return {
        created: w.created,
        errors: w.playerErrors,
        width: v.videoWidth,
        mediaError: v.error?.code ?? null,
      };
    });
    assert.deepEqual(state, { created: 1, errors: [], width: 320, mediaError: null });
    assert.deepEqual(errors, []);
    assert.equal((await e.api()).streams[0]?.viewers.total, 1, 'one connection throughout');
  } finally {
    pub.child.kill('SIGKILL');
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
    await e.stop();
    await o.stop();
  }
});
