/**
 * `estuary push` as a child process (`node --import tsx src/cli/run.ts push …`): a whole push
 * exits 0; each failure has its message and exit status (see PUSH_USAGE).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RtmpClient } from '../../src/rtmp/client.js';
import { startOrigin, type TestOrigin, waitLive } from '../helpers/origin.js';
import { run, start } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';

const FLV_3S = new URL('../fixtures/media/h264-aac-3s.flv', import.meta.url).pathname;
const RUN = new URL('../../src/cli/run.ts', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'estuary-push-cli-'));

function push(...args: string[]) {
  return start(process.execPath, ['--import', 'tsx', RUN, 'push', ...args], 30_000);
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

describe('estuary push (CLI)', { concurrency: true, timeout: 60_000 }, () => {
  let o: TestOrigin;
  let holder: RtmpClient;
  before(async () => {
    o = await startOrigin();
    // Someone already publishes live/taken.
    holder = await RtmpClient.connect(o.rtmpUrl('live/taken'));
    await holder.publish();
  });
  after(async () => {
    holder?.close('done');
    await o?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('the whole file sent: exit 0 (seed form: positional speed)', async () => {
    const r = await push(FLV_3S, `http://127.0.0.1:${o.ports.http}/live/cli-ok`, '4', '--no-reconnect').done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /done, \d+ frames/);
  });

  test('missing file: exit 3', async () => {
    const r = await push(join(tmp, 'nope.flv'), o.rtmpUrl('live/x')).done;
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /cannot open .*nope\.flv: no such file/);
  });

  test('not a media file: exit 4', async () => {
    const file = join(tmp, 'notes.mp4');
    writeFileSync(file, 'these are not video frames\n');
    const r = await push(file, o.rtmpUrl('live/x')).done;
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /is not a media file Estuary can push/);
  });

  test('unsupported codec: exit 5, the codec named', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const file = join(tmp, 'mpeg4-part2.mp4');
    const made = await run(ffmpeg, [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10:duration=0.5'],
      ...['-c:v', 'mpeg4', '-y', file],
    ]);
    assert.equal(made.code, 0, made.stderr);
    const r = await push(file, o.rtmpUrl('live/x')).done;
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /ERR_CODEC_UNSUPPORTED: .*'mp4v' is not supported; supported: H\.264/);
  });

  for (const scheme of ['rtmp', 'http'] as const) {
    test(`${scheme}: publish refused (name taken): exit 6`, async () => {
      const url = scheme === 'rtmp' ? o.rtmpUrl('live/taken') : `http://127.0.0.1:${o.ports.http}/live/taken`;
      const r = await push(FLV_3S, url).done;
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /ERR_STREAM_BUSY/);
    });

    test(`${scheme}: server unreachable: exit 7`, async () => {
      const port = await closedPort();
      const r = await push(FLV_3S, `${scheme}://127.0.0.1:${port}/live/x`).done;
      assert.equal(r.code, 7, r.stderr);
      assert.match(r.stderr, /cannot reach .*ECONNREFUSED/);
    });
  }

  // A refusal ends the push at once with exit 6 and the server's reason, whatever the options:
  // it is never retried as a connection loss (it used to loop "HTTP 409 … reconnecting").
  for (const extra of [[], ['--loop'], ['--no-reconnect']]) {
    test(`http: a refused publish ends at once (${extra.join(' ') || 'defaults'}), every time`, async () => {
      for (let i = 0; i < 2; i++) {
        // How long the CLI takes to start and fail at once here and now (the machine may be loaded).
        const b0 = Date.now();
        await push(join(tmp, 'nope.flv'), `http://127.0.0.1:${o.ports.http}/live/taken`).done;
        const baseline = Date.now() - b0;
        const t0 = Date.now();
        const r = await push(FLV_3S, `http://127.0.0.1:${o.ports.http}/live/taken`, ...extra).done;
        assert.equal(r.code, 6, r.stderr);
        assert.match(r.stderr, /HTTP 409: ERR_STREAM_BUSY: stream live\/taken is already being published/);
        assert.doesNotMatch(r.stderr, /reconnecting|EPIPE/);
        // The refusal comes as soon as the request is made; retries used to take 5-20 s more.
        const took = Date.now() - t0;
        assert.ok(took < baseline + 4000, `took ${took} ms; a CLI that fails at once took ${baseline} ms`);
      }
    });
  }

  test('http and rtmp: an unsigned push to a server that needs a signature exits 6 with ERR_AUTH', async () => {
    const signed = await startOrigin({
      authSecret: 's3cret',
      record: { flv: false, hls: false, mp4: false },
    });
    try {
      for (const url of [`http://127.0.0.1:${signed.ports.http}/live/x`, signed.rtmpUrl('live/x')]) {
        const r = await push(FLV_3S, url).done;
        assert.equal(r.code, 6, `${url}: ${r.stderr}`);
        assert.match(r.stderr, /ERR_AUTH/);
        assert.doesNotMatch(r.stderr, /EPIPE|reconnecting/);
      }
    } finally {
      await signed.stop();
    }
  });

  test('--no-reconnect: the server going away exits 8', async () => {
    const gone = await startOrigin();
    const path = 'live/gone';
    const child = push(
      FLV_3S,
      `http://127.0.0.1:${gone.ports.http}/${path}`,
      '--speed',
      '1.0',
      '--no-reconnect',
    );
    try {
      await waitLive(gone.origin, path, 30_000);
    } finally {
      await gone.stop();
    }
    const r = await child.done;
    assert.equal(r.code, 8, r.stderr);
    assert.match(r.stderr, /HTTP 503|connection (lost|closed)/);
  });

  test('bad arguments: exit 2 with the usage', async () => {
    const r = await push(FLV_3S).done;
    assert.equal(r.code, 2);
    assert.match(r.stderr, /FILE and URL are required[\s\S]*Exit status:/);
  });
});
