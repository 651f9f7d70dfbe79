/**
 * `estuary serve --workers 2` as a user runs it (the real CLI, two worker processes sharing the
 * ports): a stream published on one worker plays on the other over RTMP, HTTP-FLV and WS-FLV; a
 * second publisher of a live name is refused by either worker; a stream is recorded once however
 * many workers relay it; a worker killed with SIGKILL is replaced while a viewer on the other
 * worker keeps its connection and gets frames again; SIGTERM finalises every recording.
 *
 * Which worker serves a connection is read from the server's own log lines (each names its
 * worker; HTTP-FLV and RTMP ones name the client's address too), and a viewer is retried until
 * one lands on the worker that does not hold the publish.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FlvTagType } from '../../src/formats/flv/tag.js';
import { FlvTagReader } from '../../src/formats/flv/tag-reader.js';
import { captureWs, httpGetStream } from '../helpers/flv-capture.js';
import { fixture, publishArgs, saveAsFlvArgs } from '../helpers/media.js';
import { type Running, run, start } from '../helpers/run.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

type Line = Record<string, unknown>;

const FFMPEG = tools.ffmpeg;
const FFPROBE = tools.ffprobe;
const SOURCE = fixture('h264-aac-3s.flv');
const TOKEN = 'workers-admin-token';

let server: ServerProcess | undefined;
const children: Running[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'estuary-workers-'));

function srv(): ServerProcess {
  if (!server) throw new Error('the server did not start');
  return server;
}

/** A looping real-time RTMP publish of `path` that lasts until killed. */
function publishLoop(path: string): Running {
  const args = publishArgs(SOURCE, `rtmp://127.0.0.1:${srv().ports.rtmp}/${path}`, true);
  const p = start(FFMPEG!, ['-stream_loop', '-1', ...args], 120_000);
  children.push(p);
  return p;
}

/** The worker whose (non-relay) publish of `path` is the newest. */
function ownerOf(path: string): number | undefined {
  const starts = srv()
    .logs()
    .filter((l) => l.msg === 'publish start' && l.path === path && l.protocol !== 'pull');
  return starts.at(-1)?.worker as number | undefined;
}

function workersReady(): Line[] {
  return srv()
    .logs()
    .filter((l) => l.msg === 'worker ready');
}

/** Video packets in an FLV file, by ffprobe. */
async function videoPackets(file: string): Promise<number> {
  if (!existsSync(file)) return 0;
  const r = await run(
    FFPROBE!,
    [
      '-v',
      'error',
      '-select_streams',
      'v',
      '-count_packets',
      '-show_entries',
      'stream=nb_read_packets',
      '-of',
      'csv=p=0',
      file,
    ],
    20_000,
  );
  return Number.parseInt(r.stdout.trim(), 10) || 0;
}

/**
 * Plays until one attempt lands on a worker other than `owner` (as its log lines matching `mine`
 * say), up to `tries` times; returns that attempt's file.
 */
async function playOnOtherWorker(
  owner: number,
  mine: (l: Line) => boolean,
  play: (file: string) => Promise<void>,
  tries = 6,
): Promise<string> {
  for (let i = 0; i < tries; i++) {
    const before = srv().logs().filter(mine).length;
    const file = join(scratch, `play-${Date.now()}-${i}.flv`);
    await play(file);
    const fresh = srv().logs().filter(mine).slice(before);
    if (fresh.some((l) => l.worker !== owner)) return file;
  }
  throw new Error(`no viewer reached the worker that does not hold the publish in ${tries} tries`);
}

before(async () => {
  if (!FFMPEG || !FFPROBE) return;
  // Two workers and a primary each load the code: on a loaded 2-core machine that takes a while.
  // Round-robin: consecutive connections alternate between the workers, so a viewer meant for the
  // other worker gets there on its first retry. With the default (each worker accepting itself)
  // the idle worker may win several in a row, and retries long enough apart let the other
  // worker's pull be released between two viewers (a second "pulling" line).
  const config = { workers: 2, workerAccept: 'round-robin', logLevel: 'debug', adminToken: TOKEN };
  server = await startServerProcess(config, 512, undefined, {
    listenMs: 60_000,
    lifetimeMs: 300_000,
  });
  await until('both workers ready', () => workersReady().length >= 2, 60_000);
});

after(async () => {
  for (const c of children) c.child.kill('SIGKILL');
  await Promise.race([Promise.all(children.map((c) => c.done)), new Promise((r) => setTimeout(r, 5000))]);
  if (server?.alive()) await server.stop();
  else if (server) rmSync(join(server.dataDir, '..'), { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

test('a stream published on one worker plays on the other over RTMP, HTTP-FLV and WS-FLV', async (t) => {
  if (!FFMPEG || !FFPROBE) return t.skip('ffmpeg/ffprobe not installed');
  publishLoop('live/a');
  await until('the publish', () => ownerOf('live/a') !== undefined, 15_000);
  const owner = ownerOf('live/a')!;
  const s = srv();

  // The three protocols at once (each attempt is told apart by its own log lines).
  const [rtmpFile, httpFile, wsFile] = await Promise.all([
    playOnOtherWorker(
      owner,
      (l) => l.msg === 'play' && l.path === 'live/a',
      async (file) => {
        const url = `rtmp://127.0.0.1:${s.ports.rtmp}/live/a`;
        await start(FFMPEG, ['-t', '1.2', ...saveAsFlvArgs(url, file)], 20_000).done;
      },
    ),
    playOnOtherWorker(
      owner,
      (l) => l.msg === 'viewer joined' && l.path === 'live/a' && l.proto === 'http-flv-play',
      async (file) => {
        const url = `http://127.0.0.1:${s.ports.http}/live/a.flv`;
        await start(FFMPEG, ['-t', '1.2', ...saveAsFlvArgs(url, file)], 20_000).done;
      },
    ),
    playOnOtherWorker(
      owner,
      (l) => l.msg === 'viewer joined' && l.proto === 'ws-flv-play',
      async (file) => {
        await captureWs(`ws://127.0.0.1:${s.ports.http}/live/a.flv`, file, 2000);
      },
    ),
  ]);
  assert.ok((await videoPackets(rtmpFile)) >= 10, 'RTMP play on the other worker got video');
  assert.ok((await videoPackets(httpFile)) >= 10, 'HTTP-FLV play on the other worker got video');
  assert.ok((await videoPackets(wsFile)) >= 10, 'WS-FLV play on the other worker got video');
  // One pull of the stream by the other worker, however many viewers it had.
  const pulls = s.logs().filter((l) => l.msg === 'pulling' && l.path === 'live/a');
  assert.equal(pulls.length, 1, JSON.stringify(pulls));
});

/** GET on a fresh connection each time (so the requests spread over the workers). */
function getFresh(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in 10 s`)));
    req.on('error', reject);
  });
}

test('/api/server and /metrics answer for the whole server, whichever worker the request reaches', async (t) => {
  if (!FFMPEG || !FFPROBE) return t.skip('ffmpeg/ffprobe not installed');
  // live/a is published on one worker and relayed by the other (the test above played it there).
  const s = srv();
  await until('the publish', () => ownerOf('live/a') !== undefined, 15_000);
  const pids = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const r = await getFresh(`http://127.0.0.1:${s.ports.web}/api/server`);
    assert.equal(r.status, 200);
    const info = JSON.parse(r.body) as {
      pid: number;
      workers: number;
      workerPids: number[];
      streams: number;
      publishers: Record<string, number>;
      connections: Record<string, number>;
    };
    assert.equal(info.pid, s.running.child.pid, 'the server is the primary process');
    assert.equal(info.workers, 2);
    assert.equal(info.workerPids.length, 2);
    pids.add(info.workerPids.join(','));
    // One stream, one RTMP publisher: a worker's relay of it is neither.
    assert.equal(info.streams, 1, r.body);
    assert.deepEqual(info.publishers, { rtmp: 1 }, r.body);
    assert.ok((info.connections.rtmp ?? 0) >= 1, r.body);

    const m = await getFresh(`http://127.0.0.1:${s.ports.web}/metrics`);
    assert.equal(m.status, 200);
    // The publisher is counted whichever worker answers: on the other worker alone it is 0.
    const line = m.body
      .split('\n')
      .find((l) => l.startsWith('estuary_clients{protocol="rtmp",role="publisher"}'));
    assert.equal(line?.split(' ').at(-1), '1', line ?? m.body.slice(0, 2000));
  }
  assert.equal(pids.size, 1, 'every answer names the same two workers');
});

test('RTMP players waiting on every worker get a stream published later on one of them', async (t) => {
  if (!FFMPEG || !FFPROBE) return t.skip('ffmpeg/ffprobe not installed');
  const s = srv();
  const waits = () =>
    s.logs().filter((l) => l.msg === 'player waits for a publish' && l.path === 'live/late');
  const files = [0, 1, 2, 3].map((i) => join(scratch, `late-${i}.flv`));
  const url = `rtmp://127.0.0.1:${s.ports.rtmp}/live/late`;
  const players = files.map((f) => start(FFMPEG, ['-t', '1.2', ...saveAsFlvArgs(url, f)], 40_000));
  children.push(...players);
  await until('every player waits', () => waits().length >= files.length, 20_000);
  publishLoop('live/late');
  await until('the publish', () => ownerOf('live/late') !== undefined, 15_000);
  const owner = ownerOf('live/late');
  assert.ok(
    waits().some((l) => l.worker !== owner),
    'a player waited on the worker that did not get the publish',
  );
  await Promise.race([Promise.all(players.map((p) => p.done)), new Promise((r) => setTimeout(r, 30_000))]);
  for (const f of files) assert.ok((await videoPackets(f)) >= 10, `${f}: video after the late publish`);
});

test('a second publisher of a live name is refused whichever worker it reaches', async (t) => {
  if (!FFMPEG || !FFPROBE) return t.skip('ffmpeg/ffprobe not installed');
  await until('the publish', () => ownerOf('live/a') !== undefined, 15_000);
  const refusedBy = new Set<unknown>();
  for (let i = 0; i < 8 && refusedBy.size < 2; i++) {
    const before = srv().logs().length;
    const r = await run(FFMPEG, publishArgs(SOURCE, `rtmp://127.0.0.1:${srv().ports.rtmp}/live/a`), 20_000);
    assert.notEqual(r.code, 0, 'the second publisher must be refused');
    await until(
      'the refusal in the log',
      () =>
        srv()
          .logs()
          .slice(before)
          .some((l) => l.msg === 'refused'),
      5000,
    );
    for (const l of srv().logs().slice(before)) {
      if (l.msg === 'refused') {
        assert.match(String(l.reason), /ERR_STREAM_BUSY/);
        refusedBy.add(l.worker);
      }
    }
  }
  assert.equal(refusedBy.size, 2, 'refused by both workers');
});

test('a stream relayed by both workers is recorded once', async (t) => {
  if (!FFMPEG || !FFPROBE) return t.skip('ffmpeg/ffprobe not installed');
  const s = srv();
  const pub = publishLoop('live/rec');
  await until('the publish', () => ownerOf('live/rec') !== undefined, 15_000);
  // Viewers until the other worker pulls it too.
  const viewers: { destroy: () => void }[] = [];
  try {
    await until(
      'the other worker relays live/rec',
      async () => {
        viewers.push(await httpGetStream(`http://127.0.0.1:${s.ports.http}/live/rec.flv`));
        return s.logs().some((l) => l.msg === 'pulling' && l.path === 'live/rec');
      },
      15_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    for (const v of viewers) v.destroy();
  }
  pub.child.kill('SIGINT');
  await pub.done;
  await until(
    'the recording finalised',
    () => s.logs().some((l) => l.msg === 'FLV recording finished' && l.path === 'live/rec'),
    15_000,
  );
  const flv = readdirSync(join(s.dataDir, 'flv/live/rec')).filter((f) => f.endsWith('.flv'));
  assert.equal(flv.length, 1, `one FLV recording: ${flv.join(', ')}`);
  const recorders = s.logs().filter((l) => l.msg === 'FLV recording' && l.path === 'live/rec');
  assert.equal(recorders.length, 1, 'one FLV recorder across the workers');
});

test('a worker killed with SIGKILL is replaced; a viewer on the other worker keeps its connection and gets frames again', async (t) => {
  if (!FFMPEG || !FFPROBE) return t.skip('ffmpeg/ffprobe not installed');
  const s = srv();
  await until('the publish', () => ownerOf('live/a') !== undefined, 15_000);
  const owner = ownerOf('live/a')!;
  const pid = workersReady().find((l) => l.worker === owner)?.pid as number;
  assert.ok(pid > 0, 'the owner worker has a pid');
  // A viewer on the other worker (its address names it in the log).
  let viewer: Awaited<ReturnType<typeof httpGetStream>> | undefined;
  const spare: { destroy: () => void }[] = [];
  try {
    for (let i = 0; i < 8 && !viewer; i++) {
      const before = s.logs().length;
      const v = await httpGetStream(`http://127.0.0.1:${s.ports.http}/live/a.flv`);
      await new Promise((r) => setTimeout(r, 300));
      // Relays show up as viewers on the owner only: a fresh viewer elsewhere is this one.
      const other = s
        .logs()
        .slice(before)
        .some((l) => l.msg === 'viewer joined' && l.path === 'live/a' && l.worker !== owner);
      if (other) viewer = v;
      else spare.push(v);
    }
    for (const v of spare) v.destroy();
    assert.ok(viewer, 'a viewer on the other worker');
    let bytes = 0;
    let ended = false;
    const received: Buffer[] = [];
    viewer.onData((c) => {
      bytes += c.length;
      received.push(c);
    });
    void viewer.ended.then(() => {
      ended = true;
    });
    await until('frames before the kill', () => bytes > 10_000, 5000);

    const viewerWorker = s
      .logs()
      .find((l) => l.msg === 'viewer joined' && l.path === 'live/a' && l.worker !== owner)?.worker;
    const readyBefore = workersReady().length;
    const logsBefore = s.logs().length;
    process.kill(pid, 'SIGKILL');
    for (const c of children) c.child.kill('SIGKILL'); // the publisher loses its worker anyway
    // The publisher comes back at once (as OBS would, retrying until a worker takes it): before
    // the replacement listens it can only reach the worker that relays the stream, which must
    // let it take the stream over (not refuse it while its relay waits for the dead worker).
    await until(
      'the publisher back',
      async () => {
        const p = publishLoop('live/a');
        const r = await Promise.race([p.done, new Promise((res) => setTimeout(() => res('up'), 1500))]);
        return r === 'up';
      },
      30_000,
    );
    const back = Date.now();
    const atBack = bytes;
    await until('frames again on the viewer', () => bytes > atBack + 10_000, 3000);
    assert.ok(Date.now() - back < 3000);
    assert.equal(ended, false, 'the viewer kept its connection');
    const since = s.logs().slice(logsBefore);
    // A refusal while the dead worker's recordings are completed is expected; no other.
    const refusals = since.filter((l) => l.msg === 'refused' && l.path !== undefined);
    const otherRefusals = since.filter(
      (l) => l.msg === 'refused' && !String(l.reason).includes('is being completed'),
    );
    assert.deepEqual(otherRefusals, [], `publish refusals other than the recovery's: ${refusals.length}`);
    const newOwner = ownerOf('live/a');
    t.diagnostic(
      newOwner === viewerWorker
        ? 'the publisher came back to the relaying worker, which took the stream over'
        : 'the publisher came back to the replacement worker',
    );
    if (newOwner === viewerWorker) {
      assert.ok(
        since.some(
          (l) => l.msg === 'a publisher takes the stream over from its relay' && l.worker === viewerWorker,
        ),
        'the relaying worker took the stream over',
      );
    }
    await until('a replacement worker', () => workersReady().length > readyBefore, 40_000);
    // The viewer's timestamps never went backwards across the kill and the new publish.
    const video = new FlvTagReader().push(Buffer.concat(received)).filter((t) => t.type === FlvTagType.Video);
    for (let i = 1; i < video.length; i++) {
      assert.ok(
        video[i]!.timestamp >= video[i - 1]!.timestamp,
        `video timestamps go on: ${video[i - 1]!.timestamp} then ${video[i]!.timestamp} at tag ${i}`,
      );
    }
    // What the killed worker was recording is completed by the primary (not at the next start):
    // its HLS and MP4 sessions moved aside and finalised, its FLV file repaired.
    const unfinishedAside = () =>
      ['hls', 'mp4'].flatMap((kind) =>
        readdirSync(join(s.dataDir, kind, 'live'))
          .filter((d) => d.startsWith('a.'))
          .filter((d) => existsSync(join(s.dataDir, kind, 'live', d, '.recording')))
          .map((d) => `${kind}/${d}`),
      );
    const asideCount = () =>
      ['hls', 'mp4'].flatMap((kind) =>
        readdirSync(join(s.dataDir, kind, 'live')).filter((d) => d.startsWith('a.')),
      ).length;
    await until('the killed worker’s sessions moved aside', () => asideCount() >= 2, 10_000);
    await until('the killed worker’s recordings completed', () => unfinishedAside().length === 0, 20_000);
    const sidecars = readdirSync(join(s.dataDir, 'flv/live/a')).filter((f) => f.endsWith('.recording'));
    assert.equal(sidecars.length, 1, `only the new session's FLV is open: ${sidecars.join(', ')}`);
  } finally {
    viewer?.destroy();
    for (const v of spare) v.destroy();
  }
});

test('the admin API ends a publish whichever worker the request reaches', async (t) => {
  if (!FFMPEG || !FFPROBE) return t.skip('ffmpeg/ffprobe not installed');
  const s = srv();
  const crossed = () => s.logs().some((l) => String(l.msg).includes('(on the worker that holds it)'));
  // Under shared accept (Node 20's default here) the kernel, not a turn, picks the worker of each
  // connection, and an idle pair of workers can give the same one several times running: 4
  // rounds (8 DELETEs) all reached the holder once in CI. The loop ends at the first crossing.
  for (let round = 0; round < 12 && !crossed(); round++) {
    const names = [`live/d${round}a`, `live/d${round}b`];
    const pubs = names.map((n) => publishLoop(n));
    await until('both publishes', () => names.every((n) => ownerOf(n) !== undefined), 15_000);
    // A request more each round shifts which worker the DELETEs reach under round-robin, so they
    // cannot keep falling in step with the publishes.
    for (let k = 0; k < round; k++) {
      await (
        await fetch(`http://127.0.0.1:${s.ports.web}/healthz`, { headers: { connection: 'close' } })
      ).text();
    }
    for (const [i, n] of names.entries()) {
      const r = await fetch(`http://127.0.0.1:${s.ports.web}/api/streams/${n}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${TOKEN}`, connection: 'close' },
      });
      assert.equal(r.status, 200, n);
      assert.deepEqual(await r.json(), { stream: n, ended: true });
      const gone = await Promise.race([
        pubs[i]!.done,
        new Promise<'up'>((ok) => setTimeout(() => ok('up'), 5000)),
      ]);
      assert.notEqual(gone, 'up', `${n}: the publisher was disconnected`);
    }
  }
  assert.ok(crossed(), 'a DELETE reached the worker that does not hold the publish');
});

test('SIGTERM finalises every recording of every worker, then the server exits', async (t) => {
  if (!FFMPEG || !FFPROBE) return t.skip('ffmpeg/ffprobe not installed');
  const s = srv();
  const names = ['live/t1', 'live/t2', 'live/t3'];
  for (const n of names) publishLoop(n);
  await until('every publish', () => names.every((n) => ownerOf(n) !== undefined), 20_000);
  await new Promise((r) => setTimeout(r, 2500));
  s.running.child.kill('SIGTERM');
  const r = await Promise.race([
    s.running.done,
    new Promise<'late'>((res) => setTimeout(() => res('late'), 30_000)),
  ]);
  assert.notEqual(r, 'late', 'the server stopped within 30 s');
  assert.equal((r as { code: number | null }).code, 0);
  for (const n of names) {
    const dir = join(s.dataDir, 'flv', n);
    const files = readdirSync(dir).filter((f) => f.endsWith('.flv'));
    assert.equal(files.length, 1, n);
    assert.ok((await videoPackets(join(dir, files[0]!))) >= 25, `${n}: a complete FLV`);
    assert.ok(!existsSync(join(s.dataDir, 'hls', n, '.recording')), `${n}: HLS finalised`);
    assert.ok(!existsSync(join(s.dataDir, 'mp4', n, '.recording')), `${n}: MP4 finalised`);
    const mp4 = readdirSync(join(s.dataDir, 'mp4', n, 'output_merge')).filter((f) => f.endsWith('_full.mp4'));
    assert.equal(mp4.length, 1, `${n}: the complete MP4`);
  }
});
