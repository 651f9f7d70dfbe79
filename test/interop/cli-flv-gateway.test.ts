/**
 * `estuary flv-gateway PORT UPSTREAM_URL` as a child process, in the seed's form: it plays what
 * its origin has, prints a stats line on time (the same figures as GET /api/streams), logs in
 * detail with --debug, refuses bad arguments with a clear message, and ends its viewers cleanly
 * at SIGTERM.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fixture } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitLive } from '../helpers/origin.js';
import { type Running, run, start } from '../helpers/run.js';
import { requireTool, tools } from '../helpers/tools.js';
import { accepts, freePort, until } from '../helpers/wait.js';

const RUN = new URL('../../src/cli/run.ts', import.meta.url).pathname;
const PATH = 'live/cli';

function gateway(...args: string[]): Running {
  return start(process.execPath, ['--import', 'tsx', RUN, 'flv-gateway', ...args], 60_000);
}

function lines(out: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('estuary flv-gateway (CLI)', { timeout: 60_000 }, () => {
  let o: TestOrigin;
  let publisher: Running | undefined;

  before(async () => {
    o = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
    if (!tools.ffmpeg) return;
    publisher = start(
      tools.ffmpeg,
      [
        '-v',
        'error',
        '-re',
        '-stream_loop',
        '-1',
        '-i',
        fixture('h264-aac-3s.flv'),
        '-c',
        'copy',
        '-f',
        'flv',
        o.rtmpUrl(PATH),
      ],
      60_000,
    );
    await waitLive(o.origin, PATH);
  });

  after(async () => {
    publisher?.child.kill('SIGKILL');
    await publisher?.done;
    await o?.stop();
  });

  test('bad arguments: no upstream (exit 2), not an http:// URL (exit 1), --help (exit 0)', async () => {
    const [none, ftp, help] = await Promise.all([
      gateway('8080').done,
      gateway('8080', 'ftp://origin:8501').done,
      gateway('--help').done,
    ]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no UPSTREAM_URL/);
    assert.equal(ftp.code, 1);
    assert.match(ftp.stderr, /ERR_CONFIG: upstream "ftp:\/\/origin:8501": only http:\/\/ upstreams/);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: estuary flv-gateway PORT UPSTREAM_URL/);
    assert.match(help.stdout, /--give-up-ms N/);
  });

  test('the seed form plays the origin, prints stats, and ends its viewers at SIGTERM', async (t) => {
    if (!requireTool(t, 'ffmpeg')) return;
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffprobe) return;
    const port = await freePort();
    const g = gateway(
      `${port}`,
      `http://127.0.0.1:${o.ports.http}`,
      '--host',
      '127.0.0.1',
      '--stats-interval-ms',
      '300',
      '--debug',
    );
    let out = '';
    g.child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      await until('the edge listens', () => accepts(port), 20_000);
      const url = `http://127.0.0.1:${port}/${PATH}.flv`;
      const probe = await run(ffprobe, [
        '-v',
        'error',
        '-analyzeduration',
        '1000000',
        '-show_entries',
        'stream=codec_name',
        '-of',
        'csv=p=0',
        url,
      ]);
      assert.equal(probe.stdout.trim().split('\n').sort().join(','), 'aac,h264', probe.stderr);
      // A viewer that stays.
      let bytes = 0;
      let ended = false;
      const v = connect(port, '127.0.0.1', () => v.write(`GET /${PATH}.flv HTTP/1.1\r\nHost: x\r\n\r\n`));
      v.on('data', (d: Buffer) => {
        bytes += d.length;
      });
      v.on('end', () => {
        ended = true;
      });
      await until('a stats line with the stream and its viewer', () =>
        lines(out).some((l) => l.msg?.toString().startsWith('stats: 1 streams, 1 viewers')),
      );
      const stats = lines(out)
        .filter((l) => String(l.msg).startsWith('stats:'))
        .at(-1)!;
      assert.match(
        String(stats.msg),
        /^stats: 1 streams, 1 viewers, in \d+\.\d\d Mbit\/s, out \d+\.\d\d Mbit\/s, upstream 1 live$/,
      );
      assert.ok(Number(stats.bytesIn) > 0 && Number(stats.bytesOut) > 0);
      const api = (await (await fetch(`http://127.0.0.1:${port}/api/streams`)).json()) as {
        edge: { streams: number; viewers: number; upstream: string };
        streams: { app: string; stream: string; upstream: { state: string; url: string } }[];
      };
      assert.equal(api.edge.streams, 1);
      assert.equal(api.edge.viewers, 1);
      assert.equal(api.edge.upstream, `http://127.0.0.1:${o.ports.http}`);
      assert.deepEqual(
        api.streams.map((s) => [s.app, s.stream, s.upstream.state]),
        [['live', 'cli', 'live']],
      );
      assert.ok(
        lines(out).some((l) => l.level === 20),
        '--debug logs debug lines',
      );
      assert.ok(bytes > 0);
      g.child.kill('SIGTERM');
      const r = await g.done;
      assert.equal(r.code, 0, r.stderr);
      await until('the viewer was ended cleanly', () => ended, 5000);
      v.destroy();
    } finally {
      g.child.kill('SIGKILL');
    }
  });
});
