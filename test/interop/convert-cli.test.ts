/**
 * `estuary convert` as a user meets it (run in-process through convertCommand): exit statuses,
 * an existing OUTPUT left alone without --force, a truncated input converted up to its last whole
 * frame with a non-zero exit, an unsupported codec named, and no progress output off a terminal.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { convertCommand } from '../../src/cli/convert-command.js';
import { convertFile } from '../../src/convert/convert.js';
import { CONVERT_EXIT_CODES, isConvertError } from '../../src/convert/convert-error.js';
import { fixture } from '../helpers/media.js';
import { decodeErrors, mediaStats } from '../helpers/media-stats.js';
import { requireTool } from '../helpers/tools.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'estuary-convert-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[], isTTY = false): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await convertCommand(args, {}, { err: { write: (t: string) => (err += t) }, isTTY });
  return { code, err };
}

describe('estuary convert', { timeout: 60_000 }, () => {
  it('says nothing off a terminal when all went well, and never overwrites without --force', async () => {
    const out = join(dir, 'once.flv');
    const first = await run([fixture('h264-aac-3s.flv'), out]);
    assert.equal(first.code, 0, first.err);
    assert.equal(first.err, '', 'quiet when stderr is not a terminal');
    await writeFile(out, 'keep me');
    const again = await run([fixture('h264-aac-3s.flv'), out]);
    assert.equal(again.code, CONVERT_EXIT_CODES['output-exists']);
    assert.match(again.err, /exists; pass --force/);
    assert.equal(await readFile(out, 'utf8'), 'keep me', 'the existing file is untouched');
    const forced = await run([fixture('h264-aac-3s.flv'), out, '--force']);
    assert.equal(forced.code, 0, forced.err);
    assert.ok((await stat(out)).size > 1000, 'replaced by the conversion');
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary file left behind',
    );
  });

  it('converts a truncated FLV up to its last whole frame, says so and exits non-zero', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffmpeg || !ffprobe) return;
    const whole = await readFile(fixture('h264-aac-bframes-10s.flv'));
    const cut = join(dir, 'cut.flv');
    // Cut in the middle of a tag, as a crash or an interrupted copy leaves a file.
    await writeFile(cut, whole.subarray(0, Math.floor(whole.length * 0.55)));
    for (const name of ['cut.mp4', 'cut.m3u8']) {
      const out = join(dir, name);
      const r = await run([cut, out]);
      assert.equal(r.code, CONVERT_EXIT_CODES.incomplete, r.err);
      assert.match(r.err, /truncated/);
      assert.match(r.err, /last whole frame/);
      assert.equal(await decodeErrors(ffmpeg, out), '', `${name} decodes without errors`);
      const [inStats, outStats] = await Promise.all([mediaStats(ffprobe, cut), mediaStats(ffprobe, out)]);
      // FFmpeg may count the torn last packet of the input; the output holds only whole frames.
      const inVideo = inStats.video?.packets ?? 0;
      const outVideo = outStats.video?.packets ?? 0;
      assert.ok(
        outVideo >= inVideo - 1 && outVideo <= inVideo,
        `${name}: ${outVideo} video frames of ${inVideo}`,
      );
      assert.ok(outVideo > 100, 'most of the file survived');
    }
  });

  it('converts an FLV with a damaged tag header to a fast-start MP4 up to the damage', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const bytes = await readFile(fixture('h264-aac-bframes-10s.flv'));
    // A tag type byte about halfway: both passes (the first reads only tag headers) must stop at it.
    let at = 13;
    while (at < bytes.length / 2) at += 11 + bytes.readUIntBE(at + 1, 3) + 4;
    bytes[at] = 0x33;
    const damaged = join(dir, 'damaged.flv');
    await writeFile(damaged, bytes);
    const out = join(dir, 'damaged.mp4');
    const r = await run([damaged, out]);
    assert.equal(r.code, CONVERT_EXIT_CODES.incomplete, r.err);
    assert.match(r.err, /corrupt/);
    assert.equal(await decodeErrors(ffmpeg, out), '', 'decodes without errors');
    const result = await convertFile({ input: damaged, output: out, force: true });
    assert.equal(result.complete, false);
    assert.ok(result.frames.video > 100, `${result.frames.video} video frames before the damage`);
  });

  it('--force onto a playlist removes the old segments the new one does not rewrite, nothing else', async () => {
    const hls = join(dir, 'force-hls');
    await mkdir(join(hls, 'sub'), { recursive: true });
    const out = join(hls, 'out.m3u8');
    const long = await run([fixture('h264-aac-bframes-10s.flv'), out, '--segment-seconds', '1', '--fmp4']);
    assert.equal(long.code, 0, long.err);
    const before = (await readdir(hls)).filter((f) => f.endsWith('.m4s'));
    assert.ok(before.length >= 4, `${before.length} segments of the long conversion`);
    // Files the old playlist does not name, and one it names outside its folder, must stay.
    await writeFile(join(hls, 'out_99999.ts'), 'not named');
    await writeFile(join(hls, 'sub', 'x.ts'), 'outside');
    await writeFile(out, `${await readFile(out, 'utf8')}sub/x.ts\n../force-elsewhere.ts\n`);
    await writeFile(join(dir, 'force-elsewhere.ts'), 'outside');
    const short = await run([fixture('h264-aac-3s.flv'), out, '--force']);
    assert.equal(short.code, 0, short.err);
    const named = (await readFile(out, 'utf8')).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const left = (await readdir(hls)).sort();
    assert.deepEqual(left, ['out.m3u8', 'out_99999.ts', ...named, 'sub'].sort());
    assert.ok(named.length >= 1 && named.length < before.length, `${named.length} of ${before.length}`);
    assert.ok(
      named.every((n) => n.endsWith('.ts')),
      named.join(' '),
    );
    assert.deepEqual(await readdir(join(hls, 'sub')), ['x.ts']);
    assert.equal(await readFile(join(dir, 'force-elsewhere.ts'), 'utf8'), 'outside');
  });

  it('converts a fast-start MP4 cut short up to its last whole sample', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const full = join(dir, 'full.mp4');
    assert.equal((await run([fixture('h264-aac-bframes-10s.flv'), full])).code, 0);
    const bytes = await readFile(full);
    const cut = join(dir, 'cut-mp4.mp4');
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const out = join(dir, 'cut-mp4.flv');
    const r = await run([cut, out]);
    assert.equal(r.code, CONVERT_EXIT_CODES.incomplete, r.err);
    assert.match(r.err, /past the file end/);
    assert.equal(await decodeErrors(ffmpeg, out), '');
  });

  it('names the codec an output cannot carry', async () => {
    const r = await run([fixture('sorenson-1s.flv'), join(dir, 'sorenson.mp4')]);
    assert.equal(r.code, CONVERT_EXIT_CODES['codec-unsupported'], r.err);
    assert.match(r.err, /Sorenson H\.263/);
    const ts = await run([fixture('sorenson-1s.flv'), join(dir, 'sorenson.m3u8')]);
    assert.equal(ts.code, CONVERT_EXIT_CODES['codec-unsupported'], ts.err);
    assert.match(ts.err, /Sorenson H\.263.*MPEG-TS/);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.startsWith('sorenson')),
      [],
      'nothing written for a refused conversion',
    );
  });

  it('exits 2, 3 and 4 for bad arguments, a missing input and a file that is not media', async () => {
    assert.equal(
      (await run([fixture('h264-aac-3s.flv'), join(dir, 'x.avi')])).code,
      CONVERT_EXIT_CODES.usage,
    );
    assert.equal((await run([fixture('h264-aac-3s.flv')])).code, CONVERT_EXIT_CODES.usage);
    assert.equal(
      (await run([fixture('h264-aac-3s.flv'), join(dir, 'x.flv'), '--fmp4'])).code,
      CONVERT_EXIT_CODES.usage,
    );
    const missing = await run([join(dir, 'nope.flv'), join(dir, 'x.mp4')]);
    assert.equal(missing.code, CONVERT_EXIT_CODES['input-missing']);
    assert.match(missing.err, /no such file/);
    const text = join(dir, 'notes.flv');
    await writeFile(text, 'not a video at all');
    assert.equal((await run([text, join(dir, 'x.mp4')])).code, CONVERT_EXIT_CODES['not-media']);
  });

  it('stops when interrupted and leaves nothing behind', async () => {
    const abort = new AbortController();
    abort.abort();
    const out = join(dir, 'interrupted.mp4');
    await assert.rejects(
      convertFile({ input: fixture('h264-aac-bframes-10s.flv'), output: out, signal: abort.signal }),
      (err: unknown) => isConvertError(err, 'interrupted'),
    );
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.startsWith('interrupted')),
      [],
      'no output and no temporary file',
    );
  });

  it('prints what it wrote on a terminal', async () => {
    const r = await run([fixture('h264-aac-bframes-10s.flv'), join(dir, 'tty.flv')], true);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /wrote .*tty\.flv \(250 video and 432 audio frames/);
  });
});
