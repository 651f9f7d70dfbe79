/**
 * A full disk (ENOSPC) under the recorders, for real: the data dir is a tmpfs of 192 KiB and
 * FFmpeg publishes 10 s (280 KB) of media. The FLV recorder must stop with one error line, close
 * its file (no descriptor left for the garbage collector), leave it ending on a whole tag with
 * duration and filesize patched, and the publish must go on. Mounting needs root: elsewhere the
 * test skips (the same failure is injected at the file-handle level in
 * test/unit/record/append-file.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { pino } from 'pino';
import { resolveServeConfig } from '../../src/config/load.js';
import { FlvTagReader } from '../../src/formats/flv/tag-reader.js';
import { Origin } from '../../src/origin/origin.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { waitEnded } from '../helpers/origin.js';
import { assertDecodesClean, packetTimes, probe } from '../helpers/probe.js';
import { run } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';

interface LogLine {
  level: number;
  msg: string;
  recorder?: string;
}

/** Descriptors of this process open on files under `dir` (Linux /proc). */
function openFilesUnder(dir: string): string[] {
  const fds = readdirSync('/proc/self/fd');
  return fds
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((target) => target.startsWith(`${dir}/`));
}

/** A 192 KiB tmpfs at a temporary mount point, or undefined (the test skipped) without root. */
async function smallDisk(t: TestContext): Promise<string | undefined> {
  if (process.getuid?.() !== 0) {
    t.skip('mounting a small tmpfs needs root; the unit test injects ENOSPC instead');
    return undefined;
  }
  const mnt = mkdtempSync(join(tmpdir(), 'estuary-full-'));
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=192k', 'tmpfs', mnt]);
  if (mounted.code !== 0) {
    rmSync(mnt, { recursive: true, force: true });
    t.skip(`cannot mount a tmpfs here: ${mounted.stderr.trim()}`);
    return undefined;
  }
  t.after(async () => {
    // Lazy: a descriptor the code under test leaked must not hide the assertion that found it.
    await run('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  return mnt;
}

/** Publishes the 10 s fixture (no -re) to an origin recording `record` onto `dataDir`; its log lines. */
async function publishOnto(
  t: TestContext,
  ffmpeg: string,
  dataDir: string,
  record: { flv: boolean; hls: boolean; mp4: boolean },
  path: string,
): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  const config = resolveServeConfig([
    { host: '127.0.0.1', rtmpPort: 0, httpPort: 0, webPort: 0, dataDir },
    { record },
  ]);
  const origin = new Origin(config, log);
  t.after(() => origin.stop());
  const ports = await origin.start();
  const source = fixture('h264-aac-bframes-10s.flv');
  const pub = await run(ffmpeg, publishArgs(source, `rtmp://127.0.0.1:${ports.rtmp}/${path}`));
  assert.equal(pub.code, 0, `the publish went on: ${pub.stderr}`);
  await waitEnded(origin, path);
  return lines;
}

test('a full disk: the FLV file is closed, ends on a whole tag, has its duration; the publish goes on', {
  timeout: 60_000,
}, async (t) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  const ffprobe = requireTool(t, 'ffprobe');
  if (!ffmpeg || !ffprobe) return;
  const mnt = await smallDisk(t);
  if (!mnt) return;
  const path = 'live/full';
  const lines = await publishOnto(t, ffmpeg, mnt, { flv: true, hls: false, mp4: false }, path);
  {
    const errors = lines.filter((l) => l.level >= 50 && l.recorder === 'flv');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]!.msg, /^FLV recording stopped: .*ENOSPC/);
    assert.deepEqual(openFilesUnder(mnt), [], 'no descriptor left open on the full disk');

    const dir = join(mnt, 'flv', path);
    const file = join(dir, readdirSync(dir)[0]!);
    const bytes = readFileSync(file);
    assert.ok(bytes.length > 64 * 1024, `only ${bytes.length} bytes recorded before the disk was full`);
    const reader = new FlvTagReader();
    const tags = reader.push(bytes);
    assert.equal(reader.bytesBuffered, 0, 'the file ends on a whole tag');
    const lastTs = Math.max(...tags.map((tag) => tag.timestamp));
    await assertDecodesClean(ffmpeg, file);
    const p = await probe(ffprobe, file);
    const duration = Number(p.format.duration);
    assert.ok(Math.abs(duration - lastTs / 1000) < 0.1, `duration ${duration} s, last tag at ${lastTs} ms`);
    const times = await packetTimes(ffprobe, file);
    assert.ok(times.video.count > 10 && times.video.last < 10, `${times.video.count} video frames kept`);
  }
});

test('a full disk under all three recorders: one error line each, no descriptor left open', {
  timeout: 60_000,
}, async (t) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  if (!ffmpeg) return;
  const mnt = await smallDisk(t);
  if (!mnt) return;
  const lines = await publishOnto(t, ffmpeg, mnt, { flv: true, hls: true, mp4: true }, 'live/all');
  for (const recorder of ['flv', 'hls', 'mp4']) {
    const errors = lines.filter((l) => l.level >= 50 && l.recorder === recorder);
    assert.equal(errors.length, 1, `${recorder}: ${JSON.stringify(errors)}`);
    assert.match(errors[0]!.msg, /recording stopped: .*ENOSPC/);
  }
  assert.deepEqual(openFilesUnder(mnt), [], 'no descriptor left open on the full disk');
});
