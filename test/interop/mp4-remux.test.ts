/**
 * Demux the B-frame fixture with our demuxer, mux the frames (a) as an init segment plus ~2 s
 * fragments cut at video keyframes and (b) as a fast-start progressive MP4 built from sample
 * tables with the sample bytes copied after, then let FFmpeg decode and ffprobe count them.
 * Each also as video-only and audio-only.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { bufferReader, Mp4Demuxer } from '../../src/formats/mp4/demuxer.js';
import { buildFragment } from '../../src/formats/mp4/fragment.js';
import { timelineForTrack } from '../../src/formats/mp4/fragment-timing.js';
import { buildInitSegment, initTrackInfo } from '../../src/formats/mp4/init-segment.js';
import { layoutFastStart } from '../../src/formats/mp4/movie.js';
import { SampleTableBuilder } from '../../src/formats/mp4/sample-table-builder.js';
import type { MediaFrame } from '../../src/media/frame.js';
import type { AudioTrack, Track, VideoTrack } from '../../src/media/track.js';
import { requireTool } from '../helpers/tools.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'media', 'h264-aac-bframes-10s.mp4');
const FRAGMENT_MS = 2000;

let dir = '';
const frames: MediaFrame[] = [];
let video: VideoTrack | undefined;
let audio: AudioTrack | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'estuary-mp4-'));
  if (!existsSync(FIXTURE)) return;
  const d = await Mp4Demuxer.open(bufferReader(readFileSync(FIXTURE)));
  for await (const f of d.frames()) frames.push(f);
  video = d.tracks.find((t) => t.track.kind === 'video')?.track as VideoTrack;
  audio = d.tracks.find((t) => t.track.kind === 'audio')?.track as AudioTrack;
});
after(() => {
  if (!process.env.KEEP_MP4) rmSync(dir, { recursive: true, force: true });
});

function ready(t: TestContext): { ffmpeg: string; ffprobe: string } | undefined {
  const ffmpeg = requireTool(t, 'ffmpeg');
  const ffprobe = requireTool(t, 'ffprobe');
  if (!ffmpeg || !ffprobe) return undefined;
  if (frames.length === 0) {
    if (process.env.CI === 'true') throw new Error('fixture missing: run npm run fixtures');
    t.skip('fixture missing: run npm run fixtures');
    return undefined;
  }
  return { ffmpeg, ffprobe };
}

/** Groups frames into fragments: a new one at the first video keyframe (or audio frame) 2 s on. */
function groups(selected: MediaFrame[], hasVideo: boolean): MediaFrame[][] {
  const out: MediaFrame[][] = [];
  let start = Number.NEGATIVE_INFINITY;
  for (const f of selected) {
    const cut = hasVideo ? f.track.kind === 'video' && f.keyframe : true;
    if (cut && f.dts - start >= FRAGMENT_MS) {
      out.push([]);
      start = f.dts;
    }
    out[out.length - 1].push(f);
  }
  return out;
}

function select(kinds: { video?: VideoTrack; audio?: AudioTrack }): MediaFrame[] {
  return frames.filter((f) => f.track === kinds.video || f.track === kinds.audio);
}

function fragmented(kinds: { video?: VideoTrack; audio?: AudioTrack }): Buffer[] {
  const selected = select(kinds);
  const origin = Math.min(...selected.map((f) => f.dts)); // ffprobe dts start below 0 (B-frames, AAC priming)
  const infos = initTrackInfo(kinds);
  const tracks = infos.map((i) => ({
    ...i,
    track: (i.kind === 'video' ? kinds.video : kinds.audio) as Track,
  }));
  const timelines = tracks.map((t) => timelineForTrack(t.track, origin));
  const gs = groups(selected, kinds.video !== undefined);
  const out = [buildInitSegment(kinds)];
  gs.forEach((g, n) => {
    const parts = tracks.flatMap((t, k) => {
      const own = g.filter((f) => f.track === t.track);
      const next = gs[n + 1]?.find((f) => f.track === t.track);
      return own.length > 0 ? [timelines[k].fragment(t.trackId, own, next?.dts)] : [];
    });
    out.push(buildFragment(n + 1, parts));
  });
  return out;
}

function progressive(kinds: { video?: VideoTrack; audio?: AudioTrack }): Buffer[] {
  const selected = select(kinds);
  const origin = Math.min(...selected.map((f) => f.dts));
  const infos = initTrackInfo(kinds);
  const perTrack = infos.map((i) => {
    const track = (i.kind === 'video' ? kinds.video : kinds.audio) as Track;
    const frag = timelineForTrack(track, origin).fragment(
      i.trackId,
      selected.filter((f) => f.track === track),
    );
    return {
      track,
      frag,
      builder: new SampleTableBuilder(track, i.trackId, i.timescale, frag.baseMediaDecodeTime),
    };
  });
  // Plan the mdat: samples in DTS order, so each track's runs of consecutive samples form chunks.
  const next = perTrack.map(() => 0);
  const order: Buffer[] = [];
  let offset = 0;
  for (const f of selected) {
    const k = perTrack.findIndex((p) => p.track === f.track);
    const s = perTrack[k].frag.samples[next[k]++];
    perTrack[k].builder.add({ ...s, keyframe: s.flags.keyframe }, offset);
    order.push(s.data);
    offset += s.size;
  }
  const layout = layoutFastStart(
    perTrack.map((p) => p.builder.finish()),
    offset,
  );
  return [layout.ftyp, layout.moov, layout.mdatHeader, ...order];
}

function decodeErrors(ffmpeg: string, input: Buffer): string {
  const r = spawnSync(ffmpeg, ['-v', 'error', '-i', '-', '-f', 'null', '-'], { input });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stderr.toString();
}

function probe(ffprobe: string, path: string): { counts: Record<string, number>; duration: number } {
  const json = execFileSync(
    ffprobe,
    [
      '-v',
      'error',
      '-count_packets',
      '-show_entries',
      'stream=codec_type,nb_read_packets:format=duration',
      '-of',
      'json',
      path,
    ],
    { encoding: 'utf8' },
  );
  const p = JSON.parse(json) as {
    streams: { codec_type: string; nb_read_packets: string }[];
    format: { duration: string };
  };
  const counts: Record<string, number> = {};
  for (const s of p.streams) counts[s.codec_type] = Number(s.nb_read_packets);
  return { counts, duration: Number(p.format.duration) };
}

const variants = [
  { name: 'audio+video', pick: () => ({ video, audio }), counts: { video: 250, audio: 432 } },
  { name: 'video-only', pick: () => ({ video }), counts: { video: 250 } },
  { name: 'audio-only', pick: () => ({ audio }), counts: { audio: 432 } },
];

for (const v of variants) {
  test(`fMP4 init + 2 s fragments (${v.name}) decode cleanly with FFmpeg`, (t) => {
    const tool = ready(t);
    if (!tool) return;
    const parts = fragmented(v.pick());
    assert.ok(parts.length >= 6, `init + ${parts.length - 1} fragments`);
    const whole = Buffer.concat(parts); // = cat init seg*
    assert.equal(decodeErrors(tool.ffmpeg, whole), '');
    const path = join(dir, `frag-${v.name}.mp4`);
    writeFileSync(path, whole);
    assert.deepEqual(probe(tool.ffprobe, path).counts, v.counts);
  });

  test(`fast-start progressive MP4 (${v.name}): moov before mdat, counts and duration`, (t) => {
    const tool = ready(t);
    if (!tool) return;
    const parts = progressive(v.pick());
    const file = Buffer.concat(parts);
    assert.equal(file.toString('latin1', 4, 8), 'ftyp');
    const moovAt = parts[0].length;
    assert.equal(file.toString('latin1', moovAt + 4, moovAt + 8), 'moov');
    assert.equal(file.toString('latin1', moovAt + parts[1].length + 4, moovAt + parts[1].length + 8), 'mdat');
    const path = join(dir, `full-${v.name}.mp4`);
    writeFileSync(path, file);
    const p = probe(tool.ffprobe, path);
    assert.deepEqual(p.counts, v.counts);
    assert.ok(Math.abs(p.duration - 10) <= 0.2, `duration ${p.duration}`);
    const r = spawnSync(tool.ffmpeg, ['-v', 'error', '-i', path, '-f', 'null', '-']);
    assert.equal(r.status, 0);
    assert.equal(r.stderr.toString(), '');
  });
}
