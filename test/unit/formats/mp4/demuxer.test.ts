import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { box, fullBox, u32s } from '../../../../src/formats/mp4/box-writer.js';
import { bufferReader, Mp4Demuxer } from '../../../../src/formats/mp4/demuxer.js';
import { buildFragment } from '../../../../src/formats/mp4/fragment.js';
import { timelineForTrack } from '../../../../src/formats/mp4/fragment-timing.js';
import { buildInitSegment } from '../../../../src/formats/mp4/init-segment.js';
import { buildMovieBox, layoutFastStart, progressiveFtyp } from '../../../../src/formats/mp4/movie.js';
import { SampleTableBuilder } from '../../../../src/formats/mp4/sample-table-builder.js';
import type { MediaFrame } from '../../../../src/media/frame.js';
import type { Track } from '../../../../src/media/track.js';
import { audio, video } from './tracks.js';

const f = (track: Track, dts: number, pts: number, keyframe: boolean, byte: number): MediaFrame => ({
  track,
  dts,
  pts,
  keyframe,
  data: Buffer.alloc(track.kind === 'video' ? 5 : 3, byte),
});

// Decode order with B-frames: I P B B, 40 ms apart; audio every 23-24 ms (1024 @ 44.1 kHz).
const frames: MediaFrame[] = [
  f(video, 0, 40, true, 1),
  f(audio, 0, 0, true, 2),
  f(audio, 23, 23, true, 3),
  f(video, 40, 160, false, 4),
  f(audio, 46, 46, true, 5),
  f(audio, 70, 70, true, 6),
  f(video, 80, 80, false, 7),
  f(video, 120, 120, false, 8),
];

/** A progressive MP4 of `frames` (one chunk per sample), moov first or last. */
function progressive(moovLast: boolean): Buffer {
  const builders = new Map<Track, SampleTableBuilder>([
    [video, new SampleTableBuilder(video, 1, 90000)],
    [audio, new SampleTableBuilder(audio, 2, 44100)],
  ]);
  const samples = new Map<Track, ReturnType<ReturnType<typeof timelineForTrack>['fragment']>>();
  for (const t of [video, audio]) {
    samples.set(
      t,
      timelineForTrack(t).fragment(
        1,
        frames.filter((x) => x.track === t),
      ),
    );
  }
  const idx = new Map<Track, number>([
    [video, 0],
    [audio, 0],
  ]);
  let off = 0;
  for (const fr of frames) {
    const s = samples.get(fr.track)!.samples[idx.get(fr.track)!];
    idx.set(fr.track, idx.get(fr.track)! + 1);
    builders.get(fr.track)!.add({ ...s, keyframe: s.flags.keyframe }, off);
    off += s.size;
  }
  const tables = [...builders.values()].map((b) => b.finish());
  const payload = Buffer.concat(frames.map((x) => x.data));
  if (!moovLast) {
    const l = layoutFastStart(tables, payload.length);
    return Buffer.concat([l.ftyp, l.moov, l.mdatHeader, payload]);
  }
  const ftyp = progressiveFtyp(tables);
  const base = ftyp.length + 8;
  for (const t of tables) t.chunkOffsets = t.chunkOffsets.map((o) => o + base);
  return Buffer.concat([ftyp, box('mdat', payload), buildMovieBox(tables)]);
}

async function all(buf: Buffer): Promise<{ d: Mp4Demuxer; out: MediaFrame[] }> {
  const d = await Mp4Demuxer.open(bufferReader(buf));
  const out: MediaFrame[] = [];
  for await (const x of d.frames()) out.push(x);
  return { d, out };
}

for (const moovLast of [false, true]) {
  test(`demuxer: progressive MP4 with moov ${moovLast ? 'after' : 'before'} mdat round-trips frames`, async () => {
    const { d, out } = await all(progressive(moovLast));
    assert.deepEqual(
      d.tracks.map((t) => [t.trackId, t.track.codec, t.timescale, t.sampleCount]),
      [
        [1, 'h264', 90000, 4],
        [2, 'aac', 44100, 4],
      ],
    );
    assert.deepEqual(d.tracks[0].track.kind === 'video' && d.tracks[0].track.config, video.config);
    assert.deepEqual(
      d.tracks[1].track.kind === 'audio' && [d.tracks[1].track.sampleRate, d.tracks[1].track.channels],
      [44100, 2],
    );
    assert.equal(out.length, frames.length);
    // DTS order across tracks; audio times are exact 1024-sample steps rounded to ms.
    assert.deepEqual(
      out.map((x) => x.data[0]),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.deepEqual(
      out.map((x) => [x.dts, x.pts]),
      frames.map((x) => [x.dts, x.pts]),
    );
    assert.deepEqual(
      out.map((x) => x.keyframe),
      frames.map((x) => x.keyframe),
    );
  });
}

test('demuxer: fragmented input (init + two fragments) gives the frames with tfdt times', async () => {
  const init = buildInitSegment({ video, audio });
  const vt = timelineForTrack(video);
  const at = timelineForTrack(audio);
  const v = frames.filter((x) => x.track === video);
  const a = frames.filter((x) => x.track === audio);
  const frag1 = buildFragment(1, [vt.fragment(1, v.slice(0, 2), 80), at.fragment(2, a.slice(0, 2), 46)]);
  const frag2 = buildFragment(2, [vt.fragment(1, v.slice(2)), at.fragment(2, a.slice(2))]);
  const { d, out } = await all(Buffer.concat([init, frag1, frag2]));
  assert.equal(d.fragmented, true);
  assert.equal(out.length, 8);
  assert.deepEqual(
    out.map((x) => [x.track.kind, x.dts, x.pts, x.keyframe]),
    [
      ['video', 0, 40, true],
      ['audio', 0, 0, true],
      ['audio', 23, 23, true],
      ['video', 40, 160, false],
      ['audio', 46, 46, true],
      ['audio', 70, 70, true],
      ['video', 80, 80, false],
      ['video', 120, 120, false],
    ],
  );
});

test('demuxer: every truncation of a valid file throws EstuaryError, never a RangeError', async () => {
  const file = progressive(false);
  for (let cut = 0; cut < file.length; cut += 7) {
    await assert.rejects(
      all(file.subarray(0, cut)),
      (e) => isEstuaryError(e, 'ERR_MP4_FORMAT'),
      `cut at ${cut}`,
    );
  }
});

test('demuxer: a hostile sample count is refused before allocating', async () => {
  const file = progressive(false);
  const at = file.indexOf('stsz');
  const hostile = Buffer.from(file);
  hostile.writeUInt32BE(4, at + 8); // constant sample_size 4 ...
  hostile.writeUInt32BE(0xffffffff, at + 12); // ... for 4 billion samples
  await assert.rejects(Mp4Demuxer.open(bufferReader(hostile)), (e) => isEstuaryError(e, 'ERR_MP4_FORMAT'));
});

test('demuxer: unsupported codecs are skipped with a reason, none left is ERR_CODEC_UNSUPPORTED', async () => {
  const file = progressive(false);
  const renamed = Buffer.from(file);
  renamed.write('xxxx', renamed.indexOf('mp4a'), 'latin1');
  const d = await Mp4Demuxer.open(bufferReader(renamed));
  assert.deepEqual(
    d.tracks.map((t) => t.track.kind),
    ['video'],
  );
  assert.match(d.skipped[0], /xxxx/);
  renamed.write('yyyy', renamed.indexOf('avc1', renamed.indexOf('moov')), 'latin1');
  await assert.rejects(Mp4Demuxer.open(bufferReader(renamed)), (e) =>
    isEstuaryError(e, 'ERR_CODEC_UNSUPPORTED'),
  );
});

test('demuxer: no moov at all is ERR_MP4_FORMAT', async () => {
  const file = Buffer.concat([box('ftyp', Buffer.from('isom'), u32s(0)), box('mdat', Buffer.alloc(4))]);
  await assert.rejects(Mp4Demuxer.open(bufferReader(file)), (e) => isEstuaryError(e, 'ERR_MP4_FORMAT'));
});

test('demuxer: elst media_time shifts timestamps (first B-frame-delayed pts becomes 0)', async () => {
  const file = progressive(false);
  // Insert an edts/elst (media_time 3600 = 40 ms) into the video trak, fixing the sizes above it.
  const elst = box('edts', fullBox('elst', 0, 0, u32s(1, 160, 3600, 0x00010000)));
  const trakAt = file.indexOf('trak') - 4;
  const tkhdEnd = trakAt + 8 + file.readUInt32BE(trakAt + 8);
  const out = Buffer.concat([file.subarray(0, tkhdEnd), elst, file.subarray(tkhdEnd)]);
  const moovAt = out.indexOf('moov') - 4;
  out.writeUInt32BE(out.readUInt32BE(moovAt) + elst.length, moovAt);
  out.writeUInt32BE(out.readUInt32BE(trakAt) + elst.length, trakAt);
  // Chunk offsets point past the moov: shift them too (stco entries of both tracks).
  let at = out.indexOf('stco');
  while (at > 0) {
    const n = out.readUInt32BE(at + 8);
    for (let i = 0; i < n; i++)
      out.writeUInt32BE(out.readUInt32BE(at + 12 + i * 4) + elst.length, at + 12 + i * 4);
    at = out.indexOf('stco', at + 4);
  }
  const { out: got } = await all(out);
  const v = got.filter((x) => x.track.kind === 'video');
  assert.deepEqual(
    v.map((x) => [x.dts, x.pts]),
    [
      [-40, 0],
      [0, 120],
      [40, 40],
      [80, 80],
    ],
  );
  assert.deepEqual(
    v.map((x) => x.data[0]),
    [1, 4, 7, 8],
  );
});
