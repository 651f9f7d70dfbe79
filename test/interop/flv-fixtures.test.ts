/**
 * Reads the FLV fixtures with FlvTagReader (in random splits) and FlvToFrames, checks what comes
 * out against ffprobe, then writes the frames back with frame-to-flv and has FFmpeg decode the
 * result: the same packet counts and duration, and no error output.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FlvToFrames } from '../../src/formats/flv/flv-to-frame.js';
import {
  audioSequenceHeaderBody,
  flvTagTypeOf,
  frameToFlvBody,
  metadataBody,
  videoSequenceHeaderBody,
} from '../../src/formats/flv/frame-to-flv.js';
import { encodeFlvHeader } from '../../src/formats/flv/header.js';
import { encodeFlvTag, FlvTagType } from '../../src/formats/flv/tag.js';
import { FlvTagReader } from '../../src/formats/flv/tag-reader.js';
import type { MediaFrame } from '../../src/media/frame.js';
import { TimestampUnwrapper, wrap32 } from '../../src/media/time.js';
import type { Track } from '../../src/media/track.js';
import { requireTool } from '../helpers/tools.js';

const MEDIA = fileURLToPath(new URL('../fixtures/media/', import.meta.url));

interface ProbeStream {
  codec_type: 'video' | 'audio';
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  nb_read_packets: string;
}
interface Probe {
  streams: ProbeStream[];
  format: { duration: string };
}

/** Per stream, the time its packets span: max(pts + duration) - min(pts), in seconds. */
function packetSpan(ffprobe: string, file: string): Record<string, number> {
  const r = spawnSync(
    ffprobe,
    ['-v', 'error', '-show_entries', 'packet=codec_type,pts_time,duration_time', '-of', 'json', file],
    { encoding: 'utf8', maxBuffer: 16 << 20 },
  );
  assert.equal(r.status, 0, r.stderr);
  const { packets } = JSON.parse(r.stdout) as {
    packets: { codec_type: string; pts_time: string; duration_time?: string }[];
  };
  const lo: Record<string, number> = {};
  const hi: Record<string, number> = {};
  for (const p of packets) {
    const pts = Number(p.pts_time);
    lo[p.codec_type] = Math.min(lo[p.codec_type] ?? pts, pts);
    hi[p.codec_type] = Math.max(hi[p.codec_type] ?? pts, pts + Number(p.duration_time ?? 0));
  }
  return Object.fromEntries(Object.keys(lo).map((k) => [k, hi[k] - lo[k]]));
}

function probe(ffprobe: string, file: string): Probe {
  const r = spawnSync(
    ffprobe,
    ['-v', 'error', '-count_packets', '-show_streams', '-show_format', '-of', 'json', file],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Probe;
}

interface Demuxed {
  tracks: Track[];
  frames: MediaFrame[];
  metadata: Record<string, unknown>[];
}

/** Feeds the file in pseudo-random splits of 1..4096 bytes (seeded, so a failure replays). */
function demux(bytes: Buffer, seed: number): Demuxed {
  const reader = new FlvTagReader();
  const demuxer = new FlvToFrames();
  const clock = new TimestampUnwrapper();
  const out: Demuxed = { tracks: [], frames: [], metadata: [] };
  let s = seed;
  for (let off = 0; off < bytes.length; ) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (s % 4096);
    for (const tag of reader.push(bytes.subarray(off, off + n))) {
      for (const e of demuxer.push(tag, clock.unwrap(tag.timestamp))) {
        if (e.kind === 'track') out.tracks.push(e.track);
        else if (e.kind === 'frame') out.frames.push(e.frame);
        else out.metadata.push(e.values);
      }
    }
    off += n;
  }
  assert.equal(reader.bytesConsumed, bytes.length, 'every byte consumed');
  return out;
}

/** The inverse: header, metadata, each track's sequence header when it appears, then the frames. */
function mux(d: Demuxed): Buffer {
  const hasVideo = d.tracks.some((t) => t.kind === 'video');
  const hasAudio = d.tracks.some((t) => t.kind === 'audio');
  const parts = [encodeFlvHeader({ audio: hasAudio, video: hasVideo })];
  parts.push(encodeFlvTag(FlvTagType.Script, 0, metadataBody({ width: 320, height: 240 })));
  const announced = new Set<Track>();
  for (const frame of d.frames) {
    const { track } = frame;
    if (!announced.has(track)) {
      announced.add(track);
      const seq = track.kind === 'video' ? videoSequenceHeaderBody(track) : audioSequenceHeaderBody(track);
      if (seq) parts.push(encodeFlvTag(flvTagTypeOf(frame), wrap32(frame.dts), seq));
    }
    parts.push(encodeFlvTag(flvTagTypeOf(frame), wrap32(frame.dts), frameToFlvBody(frame)));
  }
  return Buffer.concat(parts);
}

function count(d: Demuxed, kind: 'video' | 'audio'): number {
  return d.frames.filter((f) => f.track.kind === kind).length;
}

const FIXTURES = [
  'h264-aac-bframes-10s.flv',
  'h264-aac-3s.flv',
  'video-only-3s.flv',
  'audio-only-3s.flv',
  'mp3-3s.flv',
];

for (const name of FIXTURES) {
  test(`${name}: FlvTagReader + FlvToFrames agree with ffprobe; frame-to-flv output decodes cleanly`, (t: TestContext) => {
    const ffprobe = requireTool(t, 'ffprobe');
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffprobe || !ffmpeg) return;
    const file = join(MEDIA, name);
    const bytes = readFileSync(file);
    const want = probe(ffprobe, file);
    const got = demux(bytes, name.length);
    assert.deepEqual(demux(bytes, 7).frames.length, got.frames.length, 'another split, same frames');
    assert.ok(got.metadata.length >= 1, 'onMetaData seen');

    for (const s of want.streams) {
      const track = got.tracks.find((tr) => tr.kind === s.codec_type);
      assert.ok(track, `${s.codec_type} track`);
      assert.equal(track.codec, s.codec_name, `${s.codec_type} codec`);
      if (track.kind === 'video') {
        assert.deepEqual([track.width, track.height], [s.width, s.height]);
        assert.ok(
          got.frames.some((f) => f.track === track && f.pts !== f.dts),
          'B-frames give pts ≠ dts',
        );
      } else {
        assert.deepEqual([track.sampleRate, track.channels], [Number(s.sample_rate), s.channels]);
      }
      assert.equal(count(got, s.codec_type), Number(s.nb_read_packets), `${s.codec_type} frame count`);
    }
    assert.equal(got.tracks.length, want.streams.length, 'no extra tracks');

    const dir = mkdtempSync(join(tmpdir(), 'estuary-flv-'));
    try {
      const out = join(dir, 'out.flv');
      writeFileSync(out, mux(got));
      const decode = spawnSync(ffmpeg, ['-v', 'error', '-i', out, '-f', 'null', '-'], { encoding: 'utf8' });
      assert.equal(decode.status, 0);
      assert.equal(decode.stderr, '', 'ffmpeg reports no decode errors');
      const again = probe(ffprobe, out);
      for (const s of want.streams) {
        const o = again.streams.find((x) => x.codec_type === s.codec_type);
        assert.ok(o, `${s.codec_type} stream in the output`);
        assert.equal(o.codec_name, s.codec_name);
        assert.equal(o.nb_read_packets, s.nb_read_packets, `${s.codec_type} packets`);
      }
      // Our file carries no duration in onMetaData (as a live stream would not), so compare the
      // time the packets of each stream span, to within one frame (40 ms video, 26 ms MP3/23 ms AAC).
      const oneFrame = 0.041;
      const wantSpan = packetSpan(ffprobe, file);
      const gotSpan = packetSpan(ffprobe, out);
      for (const [kind, span] of Object.entries(wantSpan)) {
        assert.ok(Math.abs(gotSpan[kind] - span) <= oneFrame, `${kind} duration ${gotSpan[kind]} vs ${span}`);
      }
      assert.ok(Number(again.format.duration) > 0, 'ffprobe reports a duration');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
