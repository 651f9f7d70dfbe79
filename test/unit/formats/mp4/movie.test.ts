import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { buildMovieBox, layoutFastStart, type MovieTrackTables } from '../../../../src/formats/mp4/movie.js';
import { SampleTableBuilder } from '../../../../src/formats/mp4/sample-table-builder.js';
import { body, find, walk } from './box-walk.js';
import { audio, video } from './tracks.js';

function videoTables(): MovieTrackTables {
  const b = new SampleTableBuilder(video, 1, 90000);
  let off = 0;
  for (let i = 0; i < 6; i++) {
    b.add(
      { size: 10 + i, duration: 3600, compositionOffset: i === 0 ? 7200 : 3600, keyframe: i % 3 === 0 },
      off,
    );
    off += 10 + i + (i === 2 ? 100 : 0); // a gap after sample 3 starts a new chunk
  }
  return b.finish();
}

test('sample table builder: typed arrays, sync numbers 1-based, chunks split where data is not contiguous', () => {
  const t = videoTables();
  assert.ok(t.sampleSizes instanceof Uint32Array);
  assert.deepEqual([...t.syncSamples!], [1, 4]);
  assert.deepEqual([...t.chunkSampleCounts], [3, 3]);
  assert.deepEqual([...t.chunkOffsets], [0, 133]);
  const a = new SampleTableBuilder(audio, 2, 44100);
  a.add({ size: 5, duration: 1024, compositionOffset: 0, keyframe: true }, 0);
  const at = a.finish();
  assert.equal(at.syncSamples, undefined); // all sync: no stss
  assert.equal(at.compositionOffsets, undefined); // all zero: no ctts
});

test('moov: stts/ctts/stsz/stsc agree on the sample count; stss present for video only', () => {
  const v = videoTables();
  const a = new SampleTableBuilder(audio, 2, 44100);
  for (let i = 0; i < 4; i++)
    a.add({ size: 7, duration: 1024, compositionOffset: 0, keyframe: true }, 500 + i * 7);
  const moov = buildMovieBox([v, a.finish()]);
  const box = (p: string, n = 0) => body(moov, find(moov, p, n));
  const total = (b: Buffer) => {
    let n = 0;
    for (let i = 0; i < b.readUInt32BE(4); i++) n += b.readUInt32BE(8 + i * 8);
    return n;
  };
  assert.equal(total(box('moov/trak/mdia/minf/stbl/stts')), 6);
  assert.equal(total(box('moov/trak/mdia/minf/stbl/ctts')), 6);
  assert.equal(box('moov/trak/mdia/minf/stbl/stsz').readUInt32BE(8), 6);
  assert.equal(total(box('moov/trak/mdia/minf/stbl/stts', 1)), 4);
  assert.equal(box('moov/trak/mdia/minf/stbl/stsz', 1).readUInt32BE(4), 7); // constant size
  assert.equal(walk(moov).filter((b) => b.type === 'stss').length, 1);
  assert.equal(walk(moov).filter((b) => b.type === 'ctts').length, 1);
  // mdhd duration = sum of durations; mvhd duration in ms = the longer track.
  assert.equal(box('moov/trak/mdia/mdhd').readUInt32BE(16), 6 * 3600);
  assert.equal(box('moov/mvhd').readUInt32BE(16), 240);
});

test('moov: a late track gets an empty edit (media_time -1) then its media', () => {
  const a = new SampleTableBuilder(audio, 2, 44100, 4410);
  a.add({ size: 7, duration: 1024, compositionOffset: 0, keyframe: true }, 0);
  const moov = buildMovieBox([a.finish()]);
  const elst = body(moov, find(moov, 'moov/trak/edts/elst'));
  assert.equal(elst.readUInt32BE(4), 2);
  assert.deepEqual([elst.readUInt32BE(8), elst.readInt32BE(12)], [100, -1]);
  assert.deepEqual([elst.readUInt32BE(20), elst.readInt32BE(24)], [23, 0]);
});

test('moov: inconsistent tables are an ERR_MP4_FORMAT', () => {
  const t = { ...videoTables(), sampleDurations: new Uint32Array(2) };
  assert.throws(
    () => buildMovieBox([t]),
    (e) => isEstuaryError(e, 'ERR_MP4_FORMAT'),
  );
});

function track(id: number, relOffsets: number[]): MovieTrackTables {
  return {
    track: audio,
    trackId: id,
    timescale: 44100,
    sampleSizes: new Uint32Array(relOffsets.length).fill(1),
    sampleDurations: new Uint32Array(relOffsets.length).fill(1024),
    chunkSampleCounts: new Uint32Array(relOffsets.length).fill(1),
    chunkOffsets: new Float64Array(relOffsets),
  };
}

test('fast start: chunk offsets are relative offsets + ftyp + moov + mdat header; moov size as planned', () => {
  const t = track(1, [0, 10, 20]);
  const l = layoutFastStart([t], 30);
  assert.equal(l.mdatPayloadOffset, l.ftyp.length + l.moov.length + 8);
  const stco = body(l.moov, find(l.moov, 'moov/trak/mdia/minf/stbl/stco'));
  assert.deepEqual(
    [8, 12, 16].map((o) => stco.readUInt32BE(o)),
    [0, 10, 20].map((o) => o + l.mdatPayloadOffset),
  );
  assert.deepEqual(l.co64, [false]);
});

// Table-driven stco -> co64 switch at 2^32, with tiny tables and a notional 5 GB mdat.
const small = layoutFastStart([track(1, [0]), track(2, [0])], 100);
const stcoBase = small.mdatPayloadOffset - 8 + 16; // same moov, but a 16-byte largesize mdat header
const cases = [
  { name: 'last chunk ends just below 2^32', rel: [2 ** 32 - 1 - stcoBase, 0], co64: [false, false] },
  { name: 'last chunk exactly at 2^32', rel: [2 ** 32 - stcoBase, 0], co64: [true, false] },
  // Track 2 fits with stco only while track 1 uses stco: switching track 1 (+4 bytes) pushes it over.
  {
    name: 'switch cascades to the other track',
    rel: [2 ** 33, 2 ** 32 - 1 - stcoBase - 2],
    co64: [true, true],
  },
  { name: 'both far beyond', rel: [3 * 2 ** 32, 2 ** 33], co64: [true, true] },
];
for (const c of cases) {
  test(`fast start co64 switch: ${c.name}`, () => {
    const l = layoutFastStart([track(1, [c.rel[0]]), track(2, [c.rel[1]])], 5e9);
    assert.deepEqual(l.co64, c.co64);
    assert.equal(l.mdatHeader.length, 16);
    const types = walk(l.moov)
      .filter((b) => b.type === 'stco' || b.type === 'co64')
      .map((b) => b.type);
    assert.deepEqual(
      types,
      c.co64.map((x) => (x ? 'co64' : 'stco')),
    );
    // Every written offset equals relative + the final payload start.
    walk(l.moov)
      .filter((b) => b.type === 'stco' || b.type === 'co64')
      .forEach((b, i) => {
        const p = body(l.moov, b);
        const v = b.type === 'stco' ? p.readUInt32BE(8) : p.readUInt32BE(8) * 2 ** 32 + p.readUInt32BE(12);
        assert.equal(v, c.rel[i] + l.mdatPayloadOffset);
      });
  });
}
