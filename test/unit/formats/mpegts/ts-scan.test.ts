/** Reading back what the TS muxer wrote, as crash recovery does: whole bytes, decode times, PMT. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dtsDelta, scannedEnd, scanTransportStream } from '../../../../src/formats/mpegts/ts-scan.js';
import { TsMuxer } from '../../../../src/formats/mpegts/ts-writer.js';
import type { MediaFrame } from '../../../../src/media/frame.js';
import type { Track } from '../../../../src/media/track.js';
import { aacTrack, avcc, h264Track } from './ts-test-helpers.js';

/** Big enough that a video frame spans several packets, so a cut can fall inside one. */
const IDR = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(1000, 0x11)]);
const SLICE = Buffer.concat([Buffer.from([0x41]), Buffer.alloc(500, 0x22)]);
const AAC_RAW = Buffer.alloc(300, 0x21);
/** DEFAULT_TIME_OFFSET_MS (1.4 s) in 90 kHz ticks: the muxer adds it to every timestamp. */
const OFFSET = 1400 * 90;

function frame(track: Track, dts: number, keyframe: boolean): MediaFrame {
  const data = track.kind === 'audio' ? AAC_RAW : avcc([keyframe ? IDR : SLICE]);
  return { track, dts, pts: dts, keyframe, data };
}

/** Tables, then video every 40 ms and audio every 23 ms by dts; the byte end of each frame. */
function segment(tracks: { video?: boolean; audio?: boolean }, ms: number) {
  const mux = new TsMuxer({
    video: tracks.video ? h264Track : undefined,
    audio: tracks.audio ? aacTrack : undefined,
  });
  const frames: MediaFrame[] = [];
  if (tracks.video) for (let t = 0; t < ms; t += 40) frames.push(frame(h264Track, t, t === 0));
  if (tracks.audio) for (let t = 0; t < ms; t += 23) frames.push(frame(aacTrack, t, true));
  frames.sort((a, b) => a.dts - b.dts || (a.track.kind === 'video' ? -1 : 1));
  const parts = [mux.writeTables()];
  const ends: { frame: MediaFrame; end: number }[] = [];
  let size = parts[0].length;
  for (const f of frames) {
    const b = mux.writeFrame(f);
    parts.push(b);
    size += b.length;
    ends.push({ frame: f, end: size });
  }
  return { bytes: Buffer.concat(parts), ends };
}

test('a whole segment: every frame, its start, its PMT, a random access point first', () => {
  const { bytes } = segment({ video: true, audio: true }, 400);
  const s = scanTransportStream(bytes, true);
  // The last PES is audio (bounded), so everything is provably whole.
  assert.equal(s.wholeBytes, bytes.length);
  assert.deepEqual(
    s.videoDts.map((d) => (d - OFFSET) / 90),
    [0, 40, 80, 120, 160, 200, 240, 280, 320, 360],
  );
  assert.equal(s.audioDts.length, 18);
  assert.equal(s.firstDts, OFFSET);
  assert.equal(s.video, true);
  assert.equal(s.randomAccess, true);
  assert.equal(s.pmt?.[0], 0x02);
  assert.equal(scannedEnd(s), OFFSET + 400 * 90);
  // Video last: whole in a complete segment, not provably so in a `.part`.
  const videoLast = segment({ video: true }, 120).bytes;
  assert.equal(scanTransportStream(videoLast, true).videoDts.length, 3);
  assert.equal(scanTransportStream(videoLast).videoDts.length, 2);
});

test('cut anywhere, the scan keeps only whole frames (a video PES at the end is not provably whole)', () => {
  const { bytes, ends } = segment({ video: true, audio: true }, 400);
  for (let cut = 0; cut <= bytes.length; cut += 47) {
    const s = scanTransportStream(bytes.subarray(0, cut));
    assert.equal(s.wholeBytes % 188, 0);
    const kept = ends.filter((e) => e.end <= s.wholeBytes);
    // Every frame inside wholeBytes is counted, and none beyond it.
    assert.equal(s.videoDts.length + s.audioDts.length, kept.length, `cut at ${cut}`);
    const lost = ends.filter((e) => e.end <= cut && e.end > s.wholeBytes);
    // At most the one video frame that happens to end exactly at the cut is given up.
    assert.ok(lost.length <= 1 && lost.every((e) => e.frame.track.kind === 'video'), `cut at ${cut}`);
    // Once cut there and renamed, the segment holds those frames exactly.
    const again = scanTransportStream(bytes.subarray(0, s.wholeBytes), true);
    assert.equal(again.wholeBytes, s.wholeBytes);
    assert.equal(again.videoDts.length + again.audioDts.length, kept.length);
  }
});

test('audio only: bounded PES, so a complete last frame is kept', () => {
  const { bytes, ends } = segment({ audio: true }, 200);
  const s = scanTransportStream(bytes);
  assert.equal(s.wholeBytes, bytes.length);
  assert.equal(s.audioDts.length, ends.length);
  assert.equal(s.video, false);
  const torn = scanTransportStream(bytes.subarray(0, bytes.length - 100));
  assert.equal(torn.audioDts.length, ends.length - 1);
  assert.equal(torn.wholeBytes, ends[ends.length - 2]!.end);
});

test('two PMTs compare equal for the same tracks and differ for others', () => {
  const av = scanTransportStream(segment({ video: true, audio: true }, 80).bytes).pmt!;
  const av2 = scanTransportStream(segment({ video: true, audio: true }, 200).bytes).pmt!;
  const a = scanTransportStream(segment({ audio: true }, 80).bytes).pmt!;
  assert.ok(av.equals(av2));
  assert.ok(!av.equals(a));
});

test('dtsDelta counts across the 33-bit wrap', () => {
  assert.equal(dtsDelta(2 ** 33 - 900, 2700), 3600);
  assert.equal(dtsDelta(100, 3700), 3600);
});

test('garbage scans as nothing', () => {
  const s = scanTransportStream(Buffer.from('not a transport stream at all'.repeat(20)));
  assert.equal(s.wholeBytes, 0);
  assert.equal(s.firstDts, undefined);
});
