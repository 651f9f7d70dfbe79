/**
 * A server killed with SIGKILL mid-recording leaves an HLS folder without ENDLIST and with its
 * `.recording` marker; the next start completes it before accepting streams.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveServeConfig } from '../../src/config/load.js';
import { parseMediaPlaylist } from '../../src/formats/m3u8/parse-playlist.js';
import { silentLogger } from '../../src/log.js';
import { Origin } from '../../src/origin/origin.js';
import { publishArgs } from '../helpers/media.js';
import { type Running, run, start } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';
import { accepts, freePort, until } from '../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = join(ROOT, 'test/fixtures/media/h264-aac-3s.flv');

test('after kill -9 the next start ends the HLS playlist and removes the marker', {
  timeout: 40_000,
}, async (t) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  if (!ffmpeg) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'estuary-hls-crash-'));
  const [rtmp, http, web] = [await freePort(), await freePort(), await freePort()];
  const server = start(
    process.execPath,
    [
      ...['--import', 'tsx', join(ROOT, 'src/cli/run.ts'), 'serve', '--host', '127.0.0.1'],
      ...['--rtmp-port', `${rtmp}`, '--http-port', `${http}`, '--web-port', `${web}`],
      ...['--data-dir', dataDir, '--no-record-flv', '--no-record-mp4', '--log-level', 'warn'],
    ],
    30_000,
  );
  let publisher: Running | undefined;
  let origin: Origin | undefined;
  const dir = join(dataDir, 'hls', 'live', 'x');
  const index = join(dir, 'index.m3u8');
  try {
    await until('the server listens', () => accepts(rtmp), 15_000);
    const url = `rtmp://127.0.0.1:${rtmp}/live/x`;
    publisher = start(ffmpeg, publishArgs(FIXTURE, url, true), 30_000);
    await until('the first segment', () => existsSync(index), 10_000);
    server.child.kill('SIGKILL');
    await server.done;
    const crashed = parseMediaPlaylist(readFileSync(index, 'utf8'));
    assert.equal(crashed.ended, false);
    assert.ok(existsSync(join(dir, '.recording')), 'the crash left the marker');

    const config = resolveServeConfig([
      { host: '127.0.0.1', rtmpPort: 0, httpPort: 0, webPort: 0, dataDir, logLevel: 'silent' },
      { record: { flv: false, hls: true, mp4: false } },
    ]);
    origin = new Origin(config, silentLogger());
    await origin.start(); // recovers before it listens
    const recovered = parseMediaPlaylist(readFileSync(index, 'utf8'));
    assert.equal(recovered.ended, true);
    // What the live playlist listed, then the open segment salvaged from its `.part`.
    assert.deepEqual(recovered.segments.slice(0, crashed.segments.length), crashed.segments);
    assert.ok(recovered.segments.length <= crashed.segments.length + 1);
    const files = readdirSync(dir).sort();
    assert.ok(!files.includes('.recording'), 'the marker is gone');
    assert.deepEqual(
      files.filter((f) => f.endsWith('.ts') || f.endsWith('.tmp') || f.endsWith('.part')),
      recovered.segments.map((s) => s.uri),
    );
    const decoded = await run(ffmpeg, ['-v', 'error', '-i', index, '-f', 'null', '-']);
    assert.equal(decoded.stderr.trim(), '', decoded.stderr);
  } finally {
    server.child.kill('SIGKILL');
    publisher?.child.kill('SIGKILL');
    await origin?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
