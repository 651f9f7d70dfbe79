/**
 * `estuary file-gateway HOST PORT --root DIR` as a child process, in the seed's form (issue 14):
 * it serves the recordings and the pages, prints one combined-format access line per request on
 * stdout, and stops at SIGTERM.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { start } from '../helpers/run.js';
import { accepts, freePort, until } from '../helpers/wait.js';

const RUN = new URL('../../src/cli/run.ts', import.meta.url).pathname;

test('estuary file-gateway 127.0.0.1 PORT --root DIR serves, logs each request, ends at SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'estuary-cli-files-'));
  const hls = join(dir, 'hls', 'live', 'stream');
  mkdirSync(hls, { recursive: true });
  writeFileSync(join(hls, 'index.m3u8'), '#EXTM3U\n');
  const port = await freePort();
  const gw = start(
    process.execPath,
    [
      '--import',
      'tsx',
      RUN,
      'file-gateway',
      '127.0.0.1',
      String(port),
      '--root',
      dir,
      '--log-format',
      'json',
    ],
    60_000,
  );
  try {
    await until('the gateway listens', () => accepts(port), 20_000);
    const base = `http://127.0.0.1:${port}`;
    const playlist = await fetch(`${base}/hls/live/stream/index.m3u8`, {
      headers: { 'User-Agent': 'cli-test' },
    });
    assert.equal(playlist.status, 200);
    assert.equal(playlist.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.equal(await playlist.text(), '#EXTM3U\n');
    const page = await fetch(`${base}/play.html`);
    assert.equal(page.status, 200);
    await page.text();
    gw.child.kill('SIGTERM');
    const out = await gw.done;
    assert.equal(out.code, 0, out.stderr);
    assert.match(
      out.stdout,
      /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/hls\/live\/stream\/index\.m3u8 HTTP\/1\.1" 200 8 "-" "cli-test"$/m,
    );
    assert.match(out.stdout, /"GET \/play\.html HTTP\/1\.1" 200 \d+ /);
    assert.match(out.stdout, /"msg":"file gateway: http:\/\/127\.0\.0\.1:\d+\/"/);
  } finally {
    gw.child.kill('SIGKILL');
    await gw.done;
    rmSync(dir, { recursive: true, force: true });
  }
});
