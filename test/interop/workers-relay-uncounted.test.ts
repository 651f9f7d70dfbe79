/**
 * `serve --workers 2` with maxConnections 4 (each worker's, per port): 8 HTTP-FLV viewers of one
 * stream all get their media (200 and FLV bytes; that it decodes is cli-workers.test.ts's
 * ffprobe check), wherever the kernel sends each. The worker without the publish relays the
 * stream from the one that holds it over that worker's private loopback port, served as its
 * live port; that relay is the server's own connection and is not counted in the bound, so
 * 2 × maxConnections clients fit (with it counted, the 8th viewer got 503). The 9th gets the 503
 * of a full server.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpGetStream } from '../helpers/flv-capture.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { type Running, start } from '../helpers/run.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

let server: ServerProcess | undefined;
let publisher: Running | undefined;
const viewers: { destroy: () => void }[] = [];
after(async () => {
  for (const v of viewers) v.destroy();
  publisher?.child.kill('SIGKILL');
  await server?.stop();
});

/** Status of a viewer of `url`, and (for 200) whether media bytes came within 10 s. */
async function view(url: string): Promise<{ status: number; media: boolean }> {
  const v = await httpGetStream(url);
  viewers.push(v);
  if (v.status !== 200) return { status: v.status, media: false };
  let bytes = 0;
  v.onData((d) => {
    bytes += d.length;
  });
  const deadline = Date.now() + 10_000;
  while (bytes < 1000 && Date.now() < deadline) await sleep(50);
  return { status: v.status, media: bytes >= 1000 };
}

test('serve --workers 2, maxConnections 4: 8 viewers play; the relay between workers is not counted', async () => {
  server = await startServerProcess(
    { workers: 2, workerAccept: 'shared', maxConnections: 4, logLevel: 'debug' },
    512,
    undefined,
    { listenMs: 60_000, lifetimeMs: 120_000 },
  );
  const s = server;
  await until(
    'both workers ready',
    () => s.logs().filter((l) => l.msg === 'worker ready').length >= 2,
    60_000,
  );
  const FFMPEG = tools.ffmpeg;
  assert.ok(FFMPEG, 'ffmpeg');
  publisher = start(
    FFMPEG,
    [
      '-stream_loop',
      '-1',
      ...publishArgs(fixture('h264-aac-3s.flv'), `rtmp://127.0.0.1:${s.ports.rtmp}/live/r`, true),
    ],
    90_000,
  );
  await until(
    'the publish',
    () => s.logs().some((l) => l.msg === 'publish start' && l.path === 'live/r'),
    20_000,
  );
  const url = `http://127.0.0.1:${s.ports.http}/live/r.flv`;
  const seen: { status: number; media: boolean }[] = [];
  for (let i = 0; i < 8; i++) {
    seen.push(await view(url));
    // The pause is asked of the primary over IPC: give it the time a client takes anyway.
    await sleep(100);
  }
  assert.deepEqual(seen, Array(8).fill({ status: 200, media: true }), 'every viewer gets its media');
  const relays = s
    .logs()
    .filter((l) => l.msg === 'publish start' && l.path === 'live/r' && l.protocol === 'pull');
  assert.ok(relays.length >= 1, 'the worker without the publish relayed the stream');
  assert.deepEqual(await view(url), { status: 503, media: false }, 'the 9th: a full server');
});
