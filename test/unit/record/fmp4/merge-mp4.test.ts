/**
 * The merge and crash recovery over small recordings written to a temp folder with FragmentRun
 * (the same bytes the recorder writes): structure checked against 14496-12 rules (moov before
 * mdat, sample counts, stts totals equal to the fragments' decode times, every sample's bytes at
 * its chunk offset).
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { childBoxes } from '../../../../src/formats/mp4/box-reader.js';
import { parseMovie } from '../../../../src/formats/mp4/movie-parser.js';
import { silentLogger } from '../../../../src/log.js';
import type { MediaFrame } from '../../../../src/media/frame.js';
import type { Track } from '../../../../src/media/track.js';
import { FragmentRun } from '../../../../src/record/fmp4/fragment-run.js';
import { OUTPUTS, outputPath, renderListing, segmentName } from '../../../../src/record/fmp4/layout.js';
import { mergeFragments } from '../../../../src/record/fmp4/merge-mp4.js';
import { recoverMp4Recording } from '../../../../src/record/fmp4/recover.js';
import { type Chunk, Segmenter } from '../../../../src/record/fmp4/segmenter.js';
import { audio, video } from '../../formats/mp4/tracks.js';

const root = mkdtempSync(join(tmpdir(), 'estuary-merge-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A payload that says which frame it is, so the merged bytes can be checked sample by sample. */
function frame(track: Track, i: number, dts: number, keyframe: boolean): MediaFrame {
  const data = Buffer.alloc(20 + (i % 7));
  data.write(`${track.kind[0]}${i}`, 'latin1');
  return { track, dts, pts: track.kind === 'video' ? dts + 80 : dts, keyframe, data };
}

/**
 * Records `seconds` of 25 fps video (GOP 1 s) and AAC into `dir` as the recorder does: each
 * segment a run of fragments (a chunk per video frame, Segmenter.takeChunk), cut every 2 s.
 */
function writeRecording(dir: string, seconds: number, withAudio = true): MediaFrame[] {
  for (const o of OUTPUTS) mkdirSync(join(dir, o.dir), { recursive: true });
  const frames: MediaFrame[] = [];
  for (let i = 0; i * 40 < seconds * 1000; i++) frames.push(frame(video, i, 500 + i * 40, i % 25 === 0));
  if (withAudio)
    for (let i = 0; (i * 1024000) / 44100 < seconds * 1000; i++)
      frames.push(frame(audio, i, 500 + Math.round((i * 1024000) / 44100), true));
  frames.sort((a, b) => a.dts - b.dts);
  const s = new Segmenter({ targetMs: 2000 });
  s.announce(video);
  if (withAudio) s.announce(audio);
  let run: FragmentRun | undefined;
  const listed: Record<string, { uri: string; seconds: number }[]> = { merged: [], video: [], audio: [] };
  const open: Record<string, { parts: Buffer[]; seconds: number }> = {};
  const emit = (chunk: Chunk) => {
    run ??= new FragmentRun({ video: s.video, audio: s.audio }, s.originMs!);
    const built = run.build(chunk);
    for (const o of OUTPUTS) {
      const out = built[o.name];
      if (!out) continue;
      open[o.name] ??= { parts: [], seconds: 0 };
      open[o.name].parts.push(...out.parts);
      open[o.name].seconds += out.seconds;
    }
  };
  const close = () => {
    for (const o of OUTPUTS) {
      const seg = open[o.name];
      if (!seg) continue;
      const uri = segmentName(o, listed[o.name].length + 1);
      writeFileSync(outputPath(dir, o, uri), Buffer.concat(seg.parts));
      listed[o.name].push({ uri, seconds: seg.seconds });
      delete open[o.name];
    }
  };
  for (const f of frames) {
    const r = s.push(f);
    if (r.kind === 'segment') {
      emit(r.segment);
      close();
    } else if (r.kind === 'buffered') {
      const chunk = s.takeChunk();
      if (chunk) emit(chunk);
    }
  }
  emit(s.flush()!);
  close();
  for (const o of OUTPUTS) {
    const init = run!.inits[o.name];
    if (!init) continue;
    writeFileSync(outputPath(dir, o, o.init), init);
    writeFileSync(outputPath(dir, o, o.playlist), renderListing(o, listed[o.name], 2, false));
  }
  return frames;
}

function readMovie(path: string) {
  const buf = readFileSync(path);
  const boxes = childBoxes(buf, 0, buf.length);
  const moov = boxes.find((b) => b.type === 'moov')!;
  return { buf, boxes, movie: parseMovie(buf.subarray(moov.start, moov.start + moov.size), 1_000_000) };
}

test('merges segments into ftyp, moov, mdat with every sample at its offset', async () => {
  const dir = join(root, 'clean');
  const frames = writeRecording(dir, 7);
  const merged = OUTPUTS[0];
  const segs = [1, 2, 3, 4].map((n) => outputPath(dir, merged, segmentName(merged, n)));
  const out = join(dir, 'output_merge', 'clean_full.mp4');
  const result = await mergeFragments(outputPath(dir, merged, 'init.mp4'), segs, out);
  assert.ok(!existsSync(`${out}.tmp`));
  const { buf, boxes, movie } = readMovie(out);
  assert.deepEqual(
    boxes.map((b) => b.type),
    ['ftyp', 'moov', 'mdat'],
  );
  const vFrames = frames.filter((f) => f.track.kind === 'video');
  const aFrames = frames.filter((f) => f.track.kind === 'audio');
  assert.deepEqual(result.samples, { 1: vFrames.length, 2: aFrames.length });
  const [v, a] = movie.tracks;
  assert.equal(v.table.count, vFrames.length);
  assert.equal(a.table.count, aFrames.length);
  // Decode times run on from 0 in exact steps: 40 ms = 3600 ticks, AAC 1024 ticks a frame.
  assert.equal(v.table.dts[v.table.count - 1], (vFrames.length - 1) * 3600);
  assert.equal(a.table.dts[a.table.count - 1], (aFrames.length - 1) * 1024);
  assert.equal(v.table.cts?.[0], 7200, 'ctts kept (80 ms at 90 kHz)');
  assert.deepEqual(
    [...v.table.sync!].flatMap((s, i) => (s ? [i] : [])),
    [0, 25, 50, 75, 100, 125, 150],
  );
  for (const [t, list] of [
    [v, vFrames],
    [a, aFrames],
  ] as const) {
    for (let i = 0; i < list.length; i++) {
      const got = buf.subarray(t.table.offsets[i], t.table.offsets[i] + t.table.sizes[i]);
      assert.ok(got.equals(list[i].data), `track ${t.trackId} sample ${i}`);
    }
  }
  assert.ok(Math.abs(result.seconds - 7) < 0.05, `${result.seconds} s`);
});

test('video-only recording merges to a single-track movie', async () => {
  const dir = join(root, 'video-only');
  writeRecording(dir, 3, false);
  const merged = OUTPUTS[0];
  const out = join(dir, 'full.mp4');
  await mergeFragments(
    outputPath(dir, merged, 'init.mp4'),
    [outputPath(dir, merged, segmentName(merged, 1)), outputPath(dir, merged, segmentName(merged, 2))],
    out,
  );
  const { movie } = readMovie(out);
  assert.deepEqual(
    movie.tracks.map((t) => [t.track.kind, t.table.count]),
    [['video', 75]],
  );
});

test('merge refuses a torn segment with ERR_MP4_FORMAT and leaves no output', async () => {
  const dir = join(root, 'torn-merge');
  writeRecording(dir, 3);
  const merged = OUTPUTS[0];
  const seg = outputPath(dir, merged, segmentName(merged, 2));
  truncateSync(seg, readFileSync(seg).length - 5);
  const out = join(dir, 'full.mp4');
  await assert.rejects(mergeFragments(outputPath(dir, merged, 'init.mp4'), [seg], out), {
    code: 'ERR_MP4_FORMAT',
  });
  assert.ok(!existsSync(out) && !existsSync(`${out}.tmp`));
});

test('recovery drops temporaries and a torn last segment, ends every listing and merges', async () => {
  const dir = join(root, 'crashed');
  writeRecording(dir, 7);
  // A crash mid-write: a .tmp left over, and (worst case) a torn last segment in every output.
  writeFileSync(join(dir, 'output_merge', 'seg000005.m4s.tmp'), 'partial');
  for (const o of OUTPUTS) {
    const last = outputPath(dir, o, segmentName(o, 4));
    truncateSync(last, 100);
  }
  await recoverMp4Recording(dir, silentLogger());
  assert.ok(!existsSync(join(dir, 'output_merge', 'seg000005.m4s.tmp')));
  for (const o of OUTPUTS) {
    assert.ok(!existsSync(outputPath(dir, o, segmentName(o, 4))), `${o.name}: torn segment removed`);
    const listing = readFileSync(outputPath(dir, o, o.playlist), 'utf8');
    assert.match(listing, /#EXT-X-ENDLIST\n$/);
    assert.equal(listing.match(/#EXTINF/g)?.length, 3, `${o.name}: three whole segments listed`);
  }
  // {stream}_full.mp4, the stream named by the folder.
  const { movie } = readMovie(join(dir, 'output_merge', 'crashed_full.mp4'));
  assert.equal(movie.tracks[0].table.count, 150, 'three 2 s segments of 25 fps video');
});

test("recovery salvages each output's open .part up to its last whole fragment", async () => {
  const dir = join(root, 'open-part');
  writeRecording(dir, 7);
  // The crash came while segment 4 was open: its files are still `.part`, the last fragment torn.
  const kept: Record<string, Buffer> = {};
  for (const o of OUTPUTS) {
    const last = outputPath(dir, o, segmentName(o, 4));
    const bytes = readFileSync(last);
    rmSync(last);
    const cut = Math.floor(bytes.length * 0.7);
    writeFileSync(`${last}.part`, bytes.subarray(0, cut));
    kept[o.name] = bytes;
  }
  await recoverMp4Recording(dir, silentLogger());
  for (const o of OUTPUTS) {
    const salvaged = readFileSync(outputPath(dir, o, segmentName(o, 4)));
    assert.ok(!existsSync(`${outputPath(dir, o, segmentName(o, 4))}.part`));
    assert.ok(salvaged.length > 0 && kept[o.name].subarray(0, salvaged.length).equals(salvaged), o.name);
    const listing = readFileSync(outputPath(dir, o, o.playlist), 'utf8');
    assert.equal(listing.match(/#EXTINF/g)?.length, 4, `${o.name}: the salvaged segment is listed`);
  }
  const { movie } = readMovie(join(dir, 'output_merge', 'open-part_full.mp4'));
  const videoFrames = movie.tracks[0].table.count;
  // Segment 4 holds 25 frames (1 s); 70 % of its bytes keep all but the last few fragments.
  assert.ok(videoFrames > 150 + 10 && videoFrames < 175, `${videoFrames} video frames`);
});

test('recovery of a folder with no segment logs and writes nothing', async () => {
  const dir = join(root, 'empty');
  mkdirSync(dir);
  await recoverMp4Recording(dir, silentLogger());
  assert.ok(!existsSync(join(dir, 'output_merge', 'empty_full.mp4')));
});
