/**
 * A real recording through `estuary file-gateway` (issue 14): an origin records a fixture
 * publish (HLS, MP4, FLV), then the gateway serves its data directory. FFmpeg must read the HLS
 * playlist and its segments, the complete MP4 and the FLV without a word on stderr, and the
 * HLS player page, loaded from the gateway, must play in Chromium.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium } from '../helpers/browser.js';
import { startFileGateway, type TestGateway } from '../helpers/file-gateway.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitEnded } from '../helpers/origin.js';
import { run } from '../helpers/run.js';
import { requireTool, tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const PATH = 'live/stream';
/** The fixture's picture width (test/fixtures/make-fixtures.ts). */
const WIDTH = 320;

describe('recordings through the file gateway', { timeout: 120_000 }, () => {
  let o: TestOrigin | undefined;
  let g: TestGateway | undefined;

  before(async () => {
    if (!tools.ffmpeg) return; // each test fails (CI) or skips through requireTool
    o = await startOrigin({ record: { flv: true, hls: true, mp4: true } });
    const pub = await run(tools.ffmpeg, publishArgs(fixture('h264-aac-bframes-10s.flv'), o.rtmpUrl(PATH)));
    assert.equal(pub.code, 0, pub.stderr);
    await waitEnded(o.origin, PATH);
    const full = join(o.dataDir, 'mp4', PATH, 'output_merge', 'stream_full.mp4');
    await until('the merged MP4', () => existsSync(full), 20_000);
    g = await startFileGateway(o.dataDir, { accessLog: 'off' });
  });
  after(async () => {
    await g?.stop();
    await o?.stop();
  });

  test('FFmpeg reads the HLS playlist, the complete MP4 and the FLV without an error', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg || !o || !g) return;
    const flv = readdirSync(join(o.dataDir, 'flv', PATH)).find((f) => f.endsWith('.flv'));
    assert.ok(flv, 'an FLV recording');
    for (const path of [
      `hls/${PATH}/index.m3u8`,
      `mp4/${PATH}/output_merge/stream_full.mp4`,
      `flv/${PATH}/${flv}`,
    ]) {
      const r = await run(ffmpeg, ['-v', 'error', '-i', `${g.base}/${path}`, '-f', 'null', '-']);
      assert.equal(r.code, 0, `${path}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), '', `${path}: FFmpeg said something`);
      assert.equal(r.stdout.trim(), '', path);
    }
    assert.ok(
      g.gateway.files!.hits + g.gateway.files!.misses > 0,
      'segments went through the in-memory copy',
    );
  });

  test('play.html from the gateway plays the HLS recording in Chromium', async (t) => {
    const browserPath = requireTool(t, 'chromium');
    if (!browserPath || !o || !g) return;
    const { browser, profile } = await launchChromium(browserPath);
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const [app, stream] = PATH.split('/');
      await page.goto(`${g.base}/play.html?app=${app}&stream=${stream}`);
      await page.waitForFunction(
        () => {
          const v = document.querySelector('video');
          return v !== null && v.videoWidth > 0 && v.currentTime > 1;
        },
        null,
        { timeout: 30_000, polling: 100 },
      );
      assert.equal(await page.evaluate(() => document.querySelector('video')!.videoWidth), WIDTH);
      assert.equal((await page.locator('#error').textContent()) ?? '', '', 'no error shown');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
