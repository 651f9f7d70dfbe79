/**
 * An unwritable data dir: the HLS recorder logs one clear error and stops, and the live stream
 * plays on. The data dir sits under a regular file, so every mkdir fails (ENOTDIR) whoever runs
 * the test; permissions would not do, since root ignores them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { resolveServeConfig } from '../../src/config/load.js';
import { Origin } from '../../src/origin/origin.js';
import { httpGetStream } from '../helpers/flv-capture.js';
import { publishArgs } from '../helpers/media.js';
import { waitLive } from '../helpers/origin.js';
import { start } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';

const FIXTURE = new URL('../fixtures/media/h264-aac-3s.flv', import.meta.url).pathname;
const PATH = 'live/x';

interface LogLine {
  level: number;
  msg: string;
  recorder?: string;
}

test('an unwritable data dir stops the HLS recorder with one error line; live play goes on', {
  timeout: 30_000,
}, async (t) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  if (!ffmpeg) return;
  const tmp = mkdtempSync(join(tmpdir(), 'estuary-hls-err-'));
  const file = join(tmp, 'not-a-dir');
  writeFileSync(file, 'a regular file\n');
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  const config = resolveServeConfig([
    { host: '127.0.0.1', rtmpPort: 0, httpPort: 0, webPort: 0, dataDir: join(file, 'data') },
    { record: { flv: false, hls: true, mp4: false } },
  ]);
  const origin = new Origin(config, log);
  const ports = await origin.start();
  const url = `rtmp://127.0.0.1:${ports.rtmp}/${PATH}`;
  const publisher = start(ffmpeg, publishArgs(FIXTURE, url, true), 20_000);
  try {
    await waitLive(origin, PATH);
    const viewer = await httpGetStream(`http://127.0.0.1:${ports.http}/${PATH}.flv`);
    assert.equal(viewer.status, 200);
    let bytes = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${bytes} bytes of live FLV in 5 s`)), 5000);
      viewer.onData((chunk) => {
        bytes += chunk.length;
        // FLV header (9) + tag size (4) + metadata, sequence headers and a keyframe: well past 4 KB.
        if (bytes >= 4096) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    viewer.destroy();
    publisher.child.kill('SIGKILL');
    await publisher.done;
    const deadline = Date.now() + 5000;
    while (origin.hub.get(PATH)?.isLive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await origin.recordings.drain();
    const errors = lines.filter((l) => l.level >= 50 && l.recorder === 'hls');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]!.msg, /^HLS recording stopped: .*ENOTDIR/);
    assert.ok(!lines.some((l) => l.msg === 'HLS recording finished'), 'a stopped recording claims nothing');
  } finally {
    publisher.child.kill('SIGKILL');
    await origin.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
});
