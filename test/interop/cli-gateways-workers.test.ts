/**
 * `estuary flv-gateway … --workers 2` and `estuary file-gateway … --workers 2` as child
 * processes: both workers serve (each names itself in its log lines), each edge worker pulls from
 * the upstream itself, and SIGTERM stops the primary and its workers with exit code 0.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { httpGetStream } from '../helpers/flv-capture.js';
import { jsonLines } from '../helpers/json-lines.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitLive } from '../helpers/origin.js';
import { type Running, start } from '../helpers/run.js';
import { tools } from '../helpers/tools.js';
import { freePort, until } from '../helpers/wait.js';

const RUN = new URL('../../src/cli/run.ts', import.meta.url).pathname;
const PATH = 'live/gw';

function cli(args: string[]): { running: Running; out: () => string } {
  const running = start(process.execPath, ['--import', 'tsx', RUN, ...args], 90_000);
  let out = '';
  running.child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return { running, out: () => out };
}

async function stopped(r: Running): Promise<number | null | 'late'> {
  r.child.kill('SIGTERM');
  const res = await Promise.race([r.done, new Promise<'late'>((ok) => setTimeout(() => ok('late'), 20_000))]);
  return res === 'late' ? 'late' : res.code;
}

let origin: TestOrigin | undefined;
let publisher: Running | undefined;
let edge: ReturnType<typeof cli> | undefined;
let files: ReturnType<typeof cli> | undefined;
const root = mkdtempSync(join(tmpdir(), 'estuary-files-workers-'));
const ports = { edge: 0, files: 0 };

before(async () => {
  if (!tools.ffmpeg) return;
  origin = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
  publisher = start(
    tools.ffmpeg,
    ['-stream_loop', '-1', ...publishArgs(fixture('h264-aac-3s.flv'), origin.rtmpUrl(PATH), true)],
    90_000,
  );
  await waitLive(origin.origin, PATH);
  mkdirSync(join(root, 'flv/live/x'), { recursive: true });
  writeFileSync(join(root, 'flv/live/x/a.flv'), Buffer.alloc(100_000, 7));
  ports.edge = await freePort();
  ports.files = await freePort();
  const upstream = `http://127.0.0.1:${origin.ports.http}`;
  edge = cli([
    'flv-gateway',
    String(ports.edge),
    upstream,
    '--host',
    '127.0.0.1',
    '--workers',
    '2',
    '--debug',
  ]);
  files = cli([
    'file-gateway',
    '127.0.0.1',
    String(ports.files),
    '--root',
    root,
    '--workers',
    '2',
    '--log-level',
    'debug',
    '--access-log',
    'off',
  ]);
  const ready = (c: typeof edge) => jsonLines(c!.out()).filter((l) => l.msg === 'worker ready').length;
  await until('both gateways have 2 workers', () => ready(edge) >= 2 && ready(files) >= 2, 45_000);
});

after(async () => {
  publisher?.child.kill('SIGKILL');
  edge?.running.child.kill('SIGKILL');
  files?.running.child.kill('SIGKILL');
  await origin?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('flv-gateway --workers 2: viewers on both workers get the stream, each worker pulls it once', async (t) => {
  if (!tools.ffmpeg || !edge) return t.skip('ffmpeg not installed');
  const served = new Set<unknown>();
  for (let i = 0; i < 8 && served.size < 2; i++) {
    const before = jsonLines(edge.out()).length;
    const v = await httpGetStream(`http://127.0.0.1:${ports.edge}/${PATH}.flv`);
    assert.equal(v.status, 200);
    let bytes = 0;
    v.onData((c) => {
      bytes += c.length;
    });
    try {
      await until('media on the edge viewer', () => bytes > 20_000, 10_000);
    } finally {
      v.destroy();
    }
    for (const l of jsonLines(edge.out()).slice(before)) {
      if (l.msg === 'viewer joined' && l.path === PATH) served.add(l.worker);
    }
  }
  assert.equal(served.size, 2, 'viewers reached both workers');
  const pulls = jsonLines(edge.out()).filter((l) => l.msg === 'pulling' && l.path === PATH);
  assert.deepEqual(new Set(pulls.map((l) => l.worker)).size, pulls.length, 'one pull per worker');
  // The API answers for the whole edge: both workers, the stream once, with its two pulls.
  const api = (await (await fetch(`http://127.0.0.1:${ports.edge}/api/streams`)).json()) as {
    edge: { workers: number; pulls: { live: number } };
    streams: { path: string; upstream: { pulls: number } }[];
  };
  assert.equal(api.edge.workers, 2);
  assert.equal(api.edge.pulls.live, 2);
  assert.deepEqual(
    api.streams.map((x) => [x.path, x.upstream.pulls]),
    [[PATH, 2]],
  );
  assert.equal(await stopped(edge.running), 0);
});

test('file-gateway --workers 2 serves files from every worker and stops on SIGTERM', async (t) => {
  if (!tools.ffmpeg || !files) return t.skip('ffmpeg not installed');
  for (let i = 0; i < 4; i++) {
    const r = await fetch(`http://127.0.0.1:${ports.files}/flv/live/x/a.flv`, {
      headers: { connection: 'close' },
    });
    assert.equal(r.status, 200);
    assert.equal((await r.arrayBuffer()).byteLength, 100_000);
  }
  assert.equal(await stopped(files.running), 0);
});
