/**
 * `convertFile`: one media file to another without re-encoding, as `ffmpeg -i IN -c copy OUT`.
 * The input is read in small pieces through the pusher's file readers (FLV, MP4/MOV: moov first
 * or last, fragmented); frames pass the track gate (track set, clock shift) and go to the output
 * the OUTPUT name picks. Nothing holds more than a segment's frames or a write buffer, so memory
 * stays flat whatever the file's length (fast-start MP4 adds ~17 bytes a sample for its moov).
 *
 * A truncated or corrupt input is converted up to its last whole frame and the result says why
 * it stopped (`complete: false`); an input that cannot be read at all, or an output that cannot be
 * written, throws a ConvertError.
 */
import { access, readFile, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { describeError, isEstuaryError } from '../errors.js';
import type { MediaFrame } from '../media/frame.js';
import { describeTrack, type Track } from '../media/track.js';
import { type MediaFileSource, openMediaFile } from '../pusher/file-source.js';
import { isPushError } from '../pusher/push-error.js';
import { ConvertError, type ConvertErrorKind } from './convert-error.js';
import { FlvOutput } from './flv-output.js';
import { Fmp4FileOutput, HlsFmp4Output } from './fmp4-output.js';
import { HlsTsOutput } from './hls-ts-output.js';
import { Mp4Output } from './mp4-output.js';
import type { ConvertOutput, InputBytes } from './output.js';
import { type OutputKind, outputKindFor } from './output-kind.js';
import { staleFiles } from './stale-segments.js';
import { type GateOpen, shifted, TrackGate } from './track-gate.js';

export interface ConvertOptions {
  input: string;
  output: string;
  /** HLS and fMP4 segment target duration, s (default 2). */
  segmentSeconds?: number;
  /** .mp4 output: fragmented (fMP4) instead of fast start. */
  fragmented?: boolean;
  /** .m3u8 output: fMP4 segments instead of MPEG-TS. */
  fmp4?: boolean;
  /** Replace an existing OUTPUT (default: refuse). */
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: ConvertProgress) => void;
}

export interface ConvertProgress {
  pass: number;
  passes: number;
  /** dts of the last frame converted, ms from the start of the input. */
  positionMs: number;
  durationMs: number | undefined;
  frames: number;
}

export interface ConvertResult {
  kind: OutputKind;
  /** Files written, the main one first. */
  files: string[];
  bytes: number;
  frames: { video: number; audio: number };
  /** From the first frame's dts to the last frame's, ms. */
  durationMs: number;
  /** What the output carries, e.g. "video h264 320x240". */
  tracks: string[];
  /** False when the input was truncated or corrupt (or changed codec) and the output stops early. */
  complete: boolean;
  /** Why it stopped early; its ConvertErrorKind ('incomplete' or 'codec-unsupported'). */
  problem?: { kind: ConvertErrorKind; message: string };
  /** Notes worth telling (tracks left out). */
  notes: string[];
}

/** The EstuaryError codes that mean "the input bytes are bad" rather than a bug or an I/O error. */
const INPUT_DAMAGE = new Set(['ERR_FLV_FORMAT', 'ERR_MP4_FORMAT', 'ERR_CODEC_CONFIG', 'ERR_AMF_DECODE']);

function makeOutput(kind: OutputKind, path: string, targetMs: number): ConvertOutput {
  switch (kind) {
    case 'mp4':
      return new Mp4Output(path);
    case 'fmp4':
      return new Fmp4FileOutput(path, targetMs);
    case 'flv':
      return new FlvOutput(path);
    case 'hls-ts':
      return new HlsTsOutput(path, targetMs);
    case 'hls-fmp4':
      return new HlsFmp4Output(path, targetMs);
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Largest playlist `--force` reads to clean up after (an .m3u8 bigger than this is no playlist of ours). */
const OLD_PLAYLIST_MAX_BYTES = 16 * 1024 * 1024;

/** The playlist a `--force` conversion replaces, if there is one to read. */
async function readOldPlaylist(path: string): Promise<string | undefined> {
  try {
    const st = await stat(path);
    if (!st.isFile() || st.size > OLD_PLAYLIST_MAX_BYTES) return undefined;
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Read size for the input: 4 MiB makes a 30-minute recording ~140 reads instead of ~9,000, and
 * most tags then lie inside one read (no copy). The reads go into reused buffers (frame data is
 * lent to the outputs, output.ts), so reading makes no garbage: fresh Buffers are external
 * memory, which V8 lets grow by tens of MB before it collects, and that was most of the RSS.
 */
const READ_BYTES = 4 * 1024 * 1024;

async function openInput(path: string): Promise<MediaFileSource> {
  try {
    return await openMediaFile(path, { readBytes: READ_BYTES, reuseBuffers: true, syncReads: true });
  } catch (err) {
    if (isPushError(err)) {
      const kind: ConvertErrorKind =
        err.kind === 'file-missing'
          ? 'input-missing'
          : err.kind === 'codec-unsupported'
            ? err.kind
            : 'not-media';
      throw new ConvertError(kind, err.message.replace('can push', 'can convert'), { cause: err });
    }
    if (isEstuaryError(err, 'ERR_CODEC_UNSUPPORTED'))
      throw new ConvertError('codec-unsupported', err.message);
    if (isEstuaryError(err) && INPUT_DAMAGE.has(err.code)) {
      throw new ConvertError('not-media', `${path}: ${describeError(err)}`, { cause: err });
    }
    throw err;
  }
}

/** FLV VideoTagHeader CodecIDs (E.4.3.1) the model carries as `legacy`. */
const LEGACY_VIDEO: Readonly<Record<number, string>> = {
  2: 'Sorenson H.263',
  3: 'Screen Video',
  4: 'On2 VP6',
  5: 'On2 VP6 with alpha',
  6: 'Screen Video 2',
};

/** A track named so the user can tell which: legacy FLV codecs by name and id. */
function trackName(t: Track): string {
  if (t.kind === 'video' && t.codec === 'legacy') {
    const id = t.legacyCodecId ?? -1;
    return `video ${LEGACY_VIDEO[id] ?? 'FLV codec'} (FLV codec id ${id})`;
  }
  if (t.kind === 'audio' && t.codec === 'legacy')
    return `audio FLV sound format ${(t.flvAudioHeader ?? 0) >> 4}`;
  return describeTrack(t);
}

interface PassOutcome {
  frames: { video: number; audio: number };
  firstDts: number | undefined;
  lastDts: number;
  problem?: { kind: ConvertErrorKind; message: string };
  gate?: GateOpen;
  leftOut: Set<string>;
}

export async function convertFile(options: ConvertOptions): Promise<ConvertResult> {
  const segmentSeconds = options.segmentSeconds ?? 2;
  if (!(segmentSeconds > 0) || !Number.isFinite(segmentSeconds)) {
    throw new ConvertError(
      'usage',
      `segment duration must be a positive number of seconds, got ${segmentSeconds}`,
    );
  }
  let kind: OutputKind;
  try {
    kind = outputKindFor(options.output, options);
  } catch (err) {
    throw new ConvertError('usage', describeError(err));
  }
  if (resolve(options.input) === resolve(options.output)) {
    throw new ConvertError('usage', 'INPUT and OUTPUT are the same file');
  }
  if (!options.force && (await exists(options.output))) {
    throw new ConvertError('output-exists', `${options.output} exists; pass --force to replace it`);
  }
  const replaced =
    options.force && kind.startsWith('hls') ? await readOldPlaylist(options.output) : undefined;
  const source = await openInput(options.input);
  const output = makeOutput(kind, options.output, Math.round(segmentSeconds * 1000));
  try {
    let outcome: PassOutcome | undefined;
    let problem: PassOutcome['problem'];
    for (let pass = 1; pass <= output.passes; pass++) {
      // A pass made from the input's bytes takes the frames the previous pass took: same outcome.
      if (outcome && (await copyPass(source, output, pass, outcome, options))) continue;
      outcome = await runPass(source, output, pass, outcome, options);
      // Pass 2 stops at pass 1's last frame, before the damage pass 1 ran into.
      problem ??= outcome.problem;
    }
    const o = { ...outcome!, problem };
    const summary = await output.finish();
    // The new playlist is in place: the old one's files it does not name go (stale-segments.ts).
    if (replaced !== undefined) {
      for (const f of staleFiles(replaced, dirname(options.output), summary.files))
        await rm(f, { force: true });
    }
    const notes = [
      ...source.skipped.map((s) => `left out: ${s}`),
      ...[...o.leftOut].map((s) => `left out: ${s}`),
    ];
    const tracks = [o.gate?.tracks.video, o.gate?.tracks.audio].filter((t): t is Track => t !== undefined);
    return {
      kind,
      files: summary.files,
      bytes: summary.bytes,
      frames: o.frames,
      durationMs: o.firstDts === undefined ? 0 : o.lastDts - o.firstDts,
      tracks: tracks.map(describeTrack),
      complete: o.problem === undefined,
      problem: o.problem,
      notes,
    };
  } catch (err) {
    await output.abort().catch(() => {});
    throw classifyOutputError(err, options.output);
  } finally {
    await source.close();
  }
}

function classifyOutputError(err: unknown, output: string): unknown {
  if (err instanceof ConvertError) return err;
  if (isEstuaryError(err, 'ERR_CODEC_UNSUPPORTED')) return new ConvertError('codec-unsupported', err.message);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return new ConvertError('output-failed', `cannot write ${output}: ${describeError(err)}`, { cause: err });
  }
  return err;
}

/** An output's begin() refused the track set: the error names the input's tracks. */
function unsupportedTracks(err: unknown, gate: GateOpen | undefined, input: string): unknown {
  if (!isEstuaryError(err, 'ERR_CODEC_UNSUPPORTED')) return err;
  const present = [gate?.tracks.video, gate?.tracks.audio].filter((t): t is Track => t !== undefined);
  return new ConvertError(
    'codec-unsupported',
    `${input} has ${present.map(trackName).join(' and ')}: ${err.message}`,
  );
}

/**
 * ConvertOutput.copyPass, when the output has one: the input's bytes, with progress and the abort
 * signal between reads. True when the output made the pass.
 */
async function copyPass(
  source: MediaFileSource,
  output: ConvertOutput,
  pass: number,
  previous: PassOutcome,
  options: ConvertOptions,
): Promise<boolean> {
  if (!output.copyPass) return false;
  let lastReport = 0;
  const input: InputBytes = {
    read: (buffer, length, position) => source.readAt(buffer, length, position),
    pause: (done, dtsMs) => {
      if (options.signal?.aborted) throw new ConvertError('interrupted', 'interrupted');
      const now = performance.now();
      if (options.onProgress && now - lastReport >= 100) {
        lastReport = now;
        options.onProgress({
          pass,
          passes: output.passes,
          positionMs: dtsMs,
          durationMs: source.durationMs,
          frames: done,
        });
      }
      // A turn of the event loop per read, as the frame reader gives (signals, timers).
      return setImmediate();
    },
  };
  try {
    return await output.copyPass(pass, input);
  } catch (err) {
    throw unsupportedTracks(err, previous.gate, options.input);
  }
}

/**
 * One read of the input into the output. Pass 2 (fast-start MP4) replays exactly the frames pass 1
 * took, so a damaged tail is cut at the same frame both times.
 */
async function runPass(
  source: MediaFileSource,
  output: ConvertOutput,
  pass: number,
  previous: PassOutcome | undefined,
  options: ConvertOptions,
): Promise<PassOutcome> {
  const outcome: PassOutcome = {
    frames: { video: 0, audio: 0 },
    firstDts: undefined,
    lastDts: 0,
    leftOut: new Set(),
  };
  const limit = previous ? previous.frames.video + previous.frames.audio : Number.POSITIVE_INFINITY;
  const gate = new TrackGate();
  let open: GateOpen | undefined;
  let taken = 0;
  let lastReport = 0;

  /** Counts a frame the output took, and reports progress now and then. */
  const taken1 = (frame: MediaFrame): void => {
    taken++;
    outcome.frames[frame.track.kind]++;
    outcome.firstDts ??= frame.dts;
    outcome.lastDts = Math.max(outcome.lastDts, frame.dts);
    if (options.onProgress && (taken & 0xff) === 0) {
      const now = performance.now();
      if (now - lastReport >= 100) {
        lastReport = now;
        options.onProgress({
          pass,
          passes: output.passes,
          positionMs: frame.dts,
          durationMs: source.durationMs,
          frames: taken,
        });
      }
    }
  };

  const stopOnCodecChange = (err: unknown): false => {
    if (!isEstuaryError(err, 'ERR_CODEC_UNSUPPORTED') || taken === 0) throw err;
    outcome.problem = { kind: 'codec-unsupported', message: err.message };
    return false;
  };

  /**
   * Hands one frame to the output; false to stop. Most frames only fill a buffer, so this answers
   * at once and a promise is made only when the output writes (one await a frame would cost more
   * than the muxing).
   */
  const deliver = (frame: MediaFrame): boolean | Promise<boolean> => {
    const t = open!.tracks[frame.track.kind];
    if (!t) {
      outcome.leftOut.add(`${trackName(frame.track)} (it starts after the first frames)`);
      return true;
    }
    if (taken >= limit) return false;
    let p: Promise<void> | undefined;
    try {
      p = output.frame(frame, pass);
    } catch (err) {
      return stopOnCodecChange(err);
    }
    if (!p) {
      taken1(frame);
      return true;
    }
    return p.then(() => {
      taken1(frame);
      return true;
    }, stopOnCodecChange);
  };

  const start = async (g: GateOpen): Promise<boolean> => {
    open = g;
    outcome.gate = g;
    try {
      await output.begin({ tracks: g.tracks, originMs: Math.min(...g.frames.map((f) => f.dts)) }, pass);
    } catch (err) {
      throw unsupportedTracks(err, g, options.input);
    }
    for (const f of g.frames) {
      const ok = deliver(f);
      if (!(ok === true || (ok !== false && (await ok)))) return false;
    }
    return true;
  };

  const gen = source.batches({ sizesOnly: output.sizesOnly?.(pass) === true });
  try {
    reading: for (;;) {
      if (options.signal?.aborted) throw new ConvertError('interrupted', 'interrupted');
      let next: IteratorResult<Awaited<ReturnType<typeof gen.next>>['value']>;
      try {
        next = await gen.next();
      } catch (err) {
        if (!isEstuaryError(err) || !INPUT_DAMAGE.has(err.code) || (!open && !gate.holding)) throw err;
        outcome.problem = {
          kind: 'incomplete',
          message: `the input is corrupt after ${taken} frames: ${describeError(err)}; converted up to the last whole frame`,
        };
        break;
      }
      if (next.done) break;
      for (const ev of next.value) {
        if (ev.kind !== 'frame') continue;
        if (open) {
          const ok = deliver(shifted(ev.frame, open.shiftMs));
          if (ok === false || (ok !== true && !(await ok))) break reading;
        } else {
          const g = gate.push(ev.frame);
          if (g && !(await start(g))) break reading;
        }
      }
    }
    if (!open) {
      const g = gate.end();
      if (!g) throw new ConvertError('not-media', `${options.input} holds no audio or video frame`);
      await start(g);
    }
  } finally {
    await gen.return(undefined);
  }
  if (!outcome.problem && source.trailingBytes > 0) {
    outcome.problem = {
      kind: 'incomplete',
      message: `the input ends inside a tag (${source.trailingBytes} bytes at the end are not a whole one: truncated?); converted up to the last whole frame`,
    };
  }
  return outcome;
}
