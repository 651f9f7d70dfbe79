/**
 * The player pages and the dashboard in a real browser: Debian's Chromium, headless, driven by
 * playwright-core, against an origin fed by FFmpeg. Every page must play the stream (the video
 * element shows the published width and its clock runs 2 s), load nothing from another host and
 * log no console error; the dashboard lists the stream, counts its viewers and links to players
 * that work. One browser, pages in sequence: the whole file stays well under two minutes.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { pushFile } from '../../src/pusher/pusher.js';
import { launchChromium } from '../helpers/browser.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitEnded, waitLive } from '../helpers/origin.js';
import { type Running, start } from '../helpers/run.js';
import { requireTool, tools } from '../helpers/tools.js';

const SHOTS = new URL('../../test-output/screenshots/', import.meta.url).pathname;
const PATH = 'live/stream';
/** The fixture's picture: 320x240 H.264 High + AAC LC (test/fixtures/make-fixtures.ts). */
const WIDTH = 320;

describe('player pages and dashboard in Chromium', { timeout: 150_000 }, () => {
  let o: TestOrigin;
  let publisher: Running | undefined;
  let browser: BrowserContext;
  let profile: string;
  let page: Page;
  /** Every URL the browser asked for (HTTP and WebSocket), and what went to the console. */
  const requests: string[] = [];
  let consoleErrors: string[] = [];
  let shot = 0;
  let skipped = false;

  const web = () => `http://127.0.0.1:${o.ports.web}`;

  before(async () => {
    // A hook cannot skip: each test does (locally) or fails (under CI=true) through requireTool.
    if (!tools.chromium || !tools.ffmpeg) {
      skipped = true;
      return;
    }
    mkdirSync(SHOTS, { recursive: true });
    o = await startOrigin();
    // A looping publish, in real time, for the live pages; killed before the recordings' pages.
    publisher = start(tools.ffmpeg!, [
      '-stream_loop',
      '-1',
      ...publishArgs(fixture('h264-aac-bframes-10s.flv'), o.rtmpUrl(PATH), true),
    ]);
    ({ browser, profile } = await launchChromium(tools.chromium));
    page = browser.pages()[0] ?? (await browser.newPage());
    watch(page);
    await waitLive(o.origin, PATH, 15_000, 25);
  });

  after(async () => {
    publisher?.child.kill('SIGKILL');
    await browser?.close();
    await o?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** Skips the test locally, fails it under CI=true (requireTool), naming what is missing. */
  function missingTools(t: TestContext): void {
    requireTool(t, 'chromium');
    requireTool(t, 'ffmpeg');
  }

  function watch(p: Page): void {
    p.on('request', (r) => requests.push(r.url()));
    p.on('websocket', (ws) => requests.push(ws.url()));
    p.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url})`);
    });
    p.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
  }

  async function screenshot(p: Page, name: string): Promise<void> {
    shot++;
    await p.screenshot({ path: join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  }

  /** Waits until the page's <video> shows the published width and its clock has run 2 s. */
  async function assertPlays(p: Page, what: string): Promise<void> {
    try {
      await p.waitForFunction(
        () => {
          const v = document.querySelector('video');
          return v !== null && v.videoWidth > 0 && v.currentTime > 0 && !v.paused;
        },
        null,
        { timeout: 25_000, polling: 100 },
      );
      const t0 = await p.evaluate(() => document.querySelector('video')!.currentTime);
      await p.waitForFunction((from) => document.querySelector('video')!.currentTime >= from + 2, t0, {
        timeout: 15_000,
        polling: 100,
      });
    } catch (err) {
      const state = await p.evaluate(() => {
        const v = document.querySelector('video');
        return {
          error: document.getElementById('error')?.textContent,
          width: v?.videoWidth,
          time: v?.currentTime,
        };
      });
      await screenshot(p, `failed-${what.replace(/\W+/g, '-')}`);
      throw new Error(
        `${what} did not play: ${JSON.stringify(state)}; console: ${consoleErrors.join(' | ')}`,
        {
          cause: err,
        },
      );
    }
    const width = await p.evaluate(() => document.querySelector('video')!.videoWidth);
    assert.equal(width, WIDTH, `${what}: videoWidth`);
    assert.equal(await p.locator('#error').textContent(), '', `${what}: no error shown`);
  }

  /** Opens a player page, checks it plays cleanly, and saves its screenshot. */
  async function playPage(href: string, name: string): Promise<void> {
    consoleErrors = [];
    await page.goto(new URL(href, `${web()}/`).href);
    await assertPlays(page, name);
    await screenshot(page, name);
    assert.deepEqual(consoleErrors, [], `${name}: console errors`);
  }

  /** The dashboard's links for the live stream: HTTP-FLV, WS-FLV, HLS, fMP4 HLS, fMP4 (MSE). */
  async function dashboardPlayLinks(): Promise<Record<string, string>> {
    const card = page.locator(`section.card[data-stream="${PATH}"]`);
    const links = card.locator('.links a');
    const out: Record<string, string> = {};
    for (let i = 0; i < (await links.count()); i++) {
      const a = links.nth(i);
      out[(await a.textContent()) ?? ''] = (await a.getAttribute('href')) ?? '';
    }
    return out;
  }

  let playLinks: Record<string, string> = {};

  test('the dashboard lists the live stream with its codecs, size, frame rate and links', async (t) => {
    if (skipped) return missingTools(t);
    consoleErrors = [];
    await page.goto(`${web()}/`);
    const card = page.locator(`section.card[data-stream="${PATH}"]`);
    await card.waitFor({ timeout: 10_000 });
    const text = (await card.textContent()) ?? '';
    assert.match(text, /H264 High 1\.3 · 320×240 · 25 fps/);
    assert.match(text, /AAC LC · 44\.1 kHz · stereo/);
    assert.match(text, /\d+ kbit\/s/);
    assert.match(text, new RegExp(`rtmp://127\\.0\\.0\\.1:${o.ports.rtmp}/${PATH}`));
    assert.match(text, new RegExp(`ws://127\\.0\\.0\\.1:${o.ports.http}/${PATH}\\.flv`));
    playLinks = await dashboardPlayLinks();
    assert.deepEqual(Object.keys(playLinks), ['HTTP-FLV', 'WS-FLV', 'HLS', 'fMP4 HLS', 'fMP4 (MSE)']);
    await screenshot(page, 'dashboard');
    assert.deepEqual(consoleErrors, []);
  });

  test('the FLV page (HTTP-FLV, from the dashboard link) plays, and the dashboard counts its viewer', async (t) => {
    if (skipped) return missingTools(t);
    await playPage(playLinks['HTTP-FLV']!, 'index-http-flv');
    // While it plays, a second tab's dashboard shows the viewer.
    const dash = await browser.newPage();
    watch(dash);
    try {
      await dash.goto(`${web()}/`);
      const viewers = dash.locator(`section.card[data-stream="${PATH}"] dd.viewers`);
      await viewers.filter({ hasText: '1 (http-flv 1)' }).waitFor({ timeout: 10_000 });
      await screenshot(dash, 'dashboard-one-viewer');
    } finally {
      await dash.close();
    }
    assert.deepEqual(consoleErrors, []);
  });

  test('the FLV page over WS-FLV plays', async (t) => {
    if (skipped) return missingTools(t);
    await playPage(playLinks['WS-FLV']!, 'index-ws-flv');
    assert.ok(requests.some((u) => u === `ws://127.0.0.1:${o.ports.http}/${PATH}.flv`));
  });

  test('the HLS page plays the live TS playlist with hls.js', async (t) => {
    if (skipped) return missingTools(t);
    await playPage(playLinks.HLS!, 'play-hls');
    assert.ok(requests.some((u) => u.endsWith(`/hls/${PATH}/index.m3u8`)));
  });

  test("the HLS page with the browser's own HLS player (Chromium has one now; else it says so)", async (t) => {
    if (skipped) return missingTools(t);
    const href = `${playLinks.HLS!}&engine=native`;
    await page.goto(new URL(href, `${web()}/`).href);
    const native = await page.evaluate(() =>
      document.createElement('video').canPlayType('application/vnd.apple.mpegurl'),
    );
    if (native === '') {
      await page.locator('#error').filter({ hasText: 'This browser has no HLS of its own' }).waitFor();
    } else {
      await playPage(href, 'play-hls-native');
      // On across playlist refreshes that slide the window: the browser's HTTP cache asks for
      // the rest of a changed playlist with If-Range, and a 206 there once spliced two versions
      // (a segment listed twice, "Parsed buffers not in DTS sequence" a few seconds in).
      const t0 = await page.evaluate(() => document.querySelector('video')!.currentTime);
      await page.waitForFunction(
        (from) => {
          const v = document.querySelector('video')!;
          return v.error !== null || v.currentTime >= from + 6;
        },
        t0,
        { timeout: 20_000, polling: 250 },
      );
      const error = await page.evaluate(() => document.querySelector('video')!.error?.message ?? '');
      assert.equal(error, '', 'native HLS: no media error across playlist refreshes');
      assert.deepEqual(consoleErrors, [], 'native HLS: console errors');
    }
  });

  test('the HLS page plays the live fMP4 playlist', async (t) => {
    if (skipped) return missingTools(t);
    await playPage(playLinks['fMP4 HLS']!, 'play-fmp4-hls');
  });

  test('the fMP4 segment page (MSE, merged) follows the live recording', async (t) => {
    if (skipped) return missingTools(t);
    await playPage(playLinks['fMP4 (MSE)']!, 'play-merge-live');
  });

  test('a page for a stream that is not live says so in the page', async (t) => {
    if (skipped) return missingTools(t);
    for (const [href, text] of [
      ['index.html?app=live&stream=nobody', 'Stream live/nobody is not live'],
      ['play.html?app=live&stream=nobody', 'Stream live/nobody is not live'],
      ['video.html?app=live&stream=nobody', 'There is no FLV recording of live/nobody'],
      ['mp4.html?app=live&stream=nobody', 'There is no complete MP4 recording of live/nobody'],
      ['play_merge.html?app=live&stream=nobody', 'There is no fMP4 recording of live/nobody'],
      [
        'mp4.html?file=mp4/live/nobody/output_merge/x.mp4',
        'File missing: /mp4/live/nobody/output_merge/x.mp4',
      ],
      ['video.html?file=flv/live/nobody/x.flv', 'File missing: /flv/live/nobody/x.flv'],
    ] as const) {
      await page.goto(`${web()}/${href}`);
      const box = page.locator('#error');
      await box.filter({ hasText: text }).waitFor({ timeout: 10_000 });
      assert.equal(await box.isVisible(), true);
    }
    await page.goto(`${web()}/index.html?app=live&stream=nobody`);
    await page.locator('#error').filter({ hasText: 'not live' }).waitFor();
    await screenshot(page, 'not-live');
  });

  test('a stream in a codec this browser cannot decode (H.265 here) is named in the page, or plays', async (t) => {
    if (skipped) return missingTools(t);
    // FFmpeg 5 cannot publish H.265 over RTMP; Estuary's pusher can (Enhanced RTMP).
    const abort = new AbortController();
    const push = pushFile({
      file: fixture('hevc-aac-3s.mp4'),
      url: o.rtmpUrl('live/hevc'),
      loop: true,
      reconnect: false,
      signal: abort.signal,
    });
    push.catch(() => {});
    try {
      await waitLive(o.origin, 'live/hevc', 10_000, 10);
      await page.goto(`${web()}/index.html?app=live&stream=hevc`);
      const hevc = 'hvc1.1.6.L60.90';
      const decodes = await page.evaluate(
        (c) => MediaSource.isTypeSupported(`video/mp4; codecs="${c}"`),
        hevc,
      );
      if (decodes) await assertPlays(page, 'index-hevc');
      else
        await page
          .locator('#error')
          .filter({ hasText: `this browser cannot play H.265 (${hevc})` })
          .waitFor();
      await screenshot(page, 'index-hevc');
    } finally {
      abort.abort();
      await push.catch(() => {});
    }
  });

  test('after the publish ends, the recordings play from the dashboard: FLV, MP4, fMP4 merged and separate', async (t) => {
    if (skipped) return missingTools(t);
    publisher!.child.kill('SIGKILL');
    await publisher!.done;
    await waitEnded(o.origin, PATH);
    consoleErrors = [];
    await page.goto(`${web()}/`);
    const rec = page.locator(`section[data-recordings="${PATH}"]`);
    await rec.locator('a', { hasText: 'play merged' }).first().waitFor({ timeout: 10_000 });
    await page.waitForFunction(() => !document.querySelector('section.card')); // no longer live
    await screenshot(page, 'dashboard-recordings');
    const href = async (row: string, label: string) => {
      const a = rec.locator('tr', { hasText: row }).first().locator('a', { hasText: label });
      return (await a.getAttribute('href')) ?? '';
    };
    const links = {
      flv: await href('FLV', 'play'),
      mp4: await href('MP4', 'play'),
      merge: await href('fMP4', 'play merged'),
      separate: await href('fMP4', 'play separate'),
    };
    assert.match(links.flv, /^video\.html\?file=flv%2Flive%2Fstream%2F\d{8}_\d{6}\.flv$/);
    assert.match(links.mp4, /^mp4\.html\?file=mp4%2Flive%2Fstream%2Foutput_merge%2Fstream_full\.mp4$/);
    await playPage(links.flv, 'video-flv-file');
    await playPage(links.mp4, 'mp4-full');
    // Seekable: the MP4 is served with Range, so a jump lands where asked.
    await page.evaluate(() => {
      document.querySelector('video')!.currentTime = 1;
    });
    await page.waitForFunction(() => {
      const v = document.querySelector('video')!;
      return !v.seeking && v.currentTime >= 1 && v.currentTime < 4;
    });
    await playPage(links.merge, 'play-merge-merged');
    await playPage(links.separate, 'play-merge-separate');
  });

  test('no page asked another host for anything', (t) => {
    if (skipped) return missingTools(t);
    const allowed = [
      `http://127.0.0.1:${o.ports.web}/`,
      `http://127.0.0.1:${o.ports.http}/`,
      `ws://127.0.0.1:${o.ports.http}/`,
    ];
    const foreign = requests.filter((u) => !allowed.some((a) => u.startsWith(a)) && !/^(blob|data):/.test(u));
    assert.deepEqual(foreign, []);
    // The libraries came from the origin itself.
    assert.ok(requests.includes(`${web()}/vendor/mpegts.js`));
    assert.ok(requests.includes(`${web()}/vendor/hls.mjs`));
  });
});
