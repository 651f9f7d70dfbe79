/**
 * MPEG-TS muxer for HLS segments: MediaFrames in, 188-byte transport packets out. It converts
 * units and lays out bytes; when to cut a segment is the caller's decision. Call `writeTables`
 * first in each segment: RFC 8216 3.2 says the first two transport packets of a segment without
 * EXT-X-MAP should be a PAT and a PMT, which is what lets a player start at any segment.
 */
import { EstuaryError } from '../../errors.js';
import type { MediaFrame } from '../../media/frame.js';
import { msToTimescale } from '../../media/time.js';
import type { AudioTrack, Track, VideoTrack } from '../../media/track.js';
import { type AudioParams, audioParamsFor, toAudioAccessUnit } from './audio-access-unit.js';
import { buildPesHeader, STREAM_ID_AUDIO, STREAM_ID_VIDEO } from './pes.js';
import {
  AUDIO_PID,
  buildPat,
  buildPmt,
  type ElementaryStreamInfo,
  PAT_PID,
  PMT_PID,
  StreamType,
  VIDEO_PID,
} from './psi.js';
import { ContinuityCounters, packetizePes, packetizeSection, pcrOnlyPacket } from './ts-packet.js';
import { toAnnexBAccessUnit, type VideoParams, videoParamsFor } from './video-access-unit.js';

/** The MPEG-TS system clock (2.4.2.1): PTS/DTS count 90 kHz, the PCR 27 MHz = 300 × 90 kHz. */
const CLOCK_90K = 90000;
const PCR_PER_90K = 300;

/**
 * Default offset added to every timestamp: 1.4 s, the start time FFmpeg's muxer gives its
 * output, so our segments look like FFmpeg's to players tuned on it. It has to cover the PCR
 * lead below (the PCR must not go negative) plus the amount by which a source's first DTS may
 * sit below 0 (MP4 edit lists and B-frame reordering put it up to a few frames early).
 */
export const DEFAULT_TIME_OFFSET_MS = 1400;
/**
 * How far the PCR runs ahead of the DTS it travels with: 0.7 s, FFmpeg's default max_delay
 * (-muxdelay). A decoder buffers data for this long before decoding (the T-STD model, 2.4.2);
 * it keeps PCR < DTS for every access unit, as 2.7.4 and Apple's TS checks require.
 */
const PCR_LEAD_90K = 0.7 * CLOCK_90K;
/**
 * 2.7.2: consecutive PCRs must be at most 0.1 s apart. Video carries one per PES (every 40 ms at
 * 25 fps); when a frame on another PID finds the last PCR older than this, a PCR-only packet goes
 * first. 80 ms leaves room for the next audio frame (21-64 ms for AAC at 16-48 kHz).
 */
const PCR_MAX_GAP_90K = 0.08 * CLOCK_90K;

export interface TsMuxerTracks {
  video?: VideoTrack;
  audio?: AudioTrack;
}

export interface TsMuxerOptions {
  /** Milliseconds added to every PTS/DTS (see DEFAULT_TIME_OFFSET_MS). */
  timeOffsetMs?: number;
  /** Continuity counters to continue from, e.g. those of the muxer this one replaces. */
  counters?: ContinuityCounters;
  /**
   * writeFrame returns a view of buffers the muxer writes into again at the next call, instead of
   * new Buffers per frame: for a caller that copies the bytes at once (a file writer), this makes
   * no garbage per frame. Default false (the live HLS recorder keeps the Buffers it is given).
   */
  reuseOutput?: boolean;
}

interface VideoSlot {
  track: VideoTrack;
  params: VideoParams;
}

interface AudioSlot {
  track: AudioTrack;
  params: AudioParams;
}

/** True when TsMuxer can carry the track: H.264/H.265 video, AAC/MP3 audio. */
export function isTsCodecSupported(track: Track): boolean {
  return track.kind === 'video'
    ? track.codec === 'h264' || track.codec === 'h265'
    : track.codec === 'aac' || track.codec === 'mp3';
}

function unsupported(track: Track): EstuaryError {
  return new EstuaryError(
    'ERR_CODEC_UNSUPPORTED',
    `MPEG-TS output supports video H.264, H.265 and audio AAC, MP3; got ${track.kind} ${track.codec}`,
  );
}

function paramSetBytes(p: VideoParams): number {
  let n = 0;
  for (const ps of p.paramSets) n += ps.length + 4;
  return n;
}

export class TsMuxer {
  /** The PID whose packets carry the PCR: video when present, else audio (PMT PCR_PID, 2.4.4.9). */
  readonly pcrPid: number;
  readonly counters: ContinuityCounters;
  private readonly timeOffsetMs: number;
  private video?: VideoSlot;
  private audio?: AudioSlot;
  private readonly pat: Buffer;
  private readonly pmt: Buffer;
  /** The last PCR written, in 90 kHz units before the 33-bit wrap: PCRs never go backwards. */
  private lastPcr90?: number;
  /**
   * reuseOutput: one Buffer, grown as needed, with the packets built at its start and the Annex B
   * access unit after them (from `esAt`): the 184-byte pieces are then copied within one
   * ArrayBuffer (copyWithin in packetizePes), which costs less a call than Buffer#copy.
   */
  private scratch: Buffer | undefined;
  private esAt = 0;

  constructor(tracks: TsMuxerTracks, options: TsMuxerOptions = {}) {
    const streams: ElementaryStreamInfo[] = [];
    if (tracks.video) {
      if (!isTsCodecSupported(tracks.video)) throw unsupported(tracks.video);
      this.video = { track: tracks.video, params: videoParamsFor(tracks.video) };
      const streamType = tracks.video.codec === 'h264' ? StreamType.H264 : StreamType.H265;
      streams.push({ streamType, pid: VIDEO_PID });
    }
    if (tracks.audio) {
      if (!isTsCodecSupported(tracks.audio)) throw unsupported(tracks.audio);
      this.audio = { track: tracks.audio, params: audioParamsFor(tracks.audio) };
      streams.push({ streamType: this.audio.params.streamType, pid: AUDIO_PID });
    }
    if (streams.length === 0)
      throw new EstuaryError('ERR_MPEGTS_MUX', 'a TsMuxer needs a video or an audio track');
    const offset = options.timeOffsetMs ?? DEFAULT_TIME_OFFSET_MS;
    if (!Number.isFinite(offset) || offset < 0) {
      throw new EstuaryError('ERR_MPEGTS_MUX', `timeOffsetMs ${offset} is not a non-negative number`);
    }
    this.timeOffsetMs = offset;
    this.pcrPid = tracks.video ? VIDEO_PID : AUDIO_PID;
    this.counters = options.counters ?? new ContinuityCounters();
    this.pat = buildPat(PMT_PID);
    this.pmt = buildPmt(this.pcrPid, streams);
    if (options.reuseOutput) this.scratch = Buffer.alloc(0);
  }

  /** A scratch Buffer of at least `n` bytes (doubling, so a run of growing frames reallocates rarely). */
  private grow(n: number): Buffer {
    if (this.scratch!.length < n)
      this.scratch = Buffer.allocUnsafe(Math.max(n, 2 * this.scratch!.length, 128 * 1024));
    return this.scratch!;
  }

  /** Room for an access unit of up to `n` bytes, after room for all its packets. */
  private esRoom(n: number): Buffer | undefined {
    if (!this.scratch) return undefined;
    // Packets for n bytes and the PES header (at most 19 bytes), 170 payload bytes each or more.
    const ts = (Math.ceil((n + 32) / 170) + 2) * 188;
    const s = this.grow(ts + n);
    this.esAt = ts;
    return s.subarray(ts);
  }

  /** Room for `n` bytes of packets, before the access unit when that lies in the scratch. */
  private tsRoom(n: number, es: Buffer): Buffer | undefined {
    if (!this.scratch) return undefined;
    if (es.buffer === this.scratch.buffer) return this.scratch.subarray(0, this.esAt);
    return this.grow(n);
  }

  /** PAT + PMT, two packets: what every segment starts with. */
  writeTables(): Buffer {
    return Buffer.concat([
      packetizeSection(PAT_PID, this.pat, this.counters),
      packetizeSection(PMT_PID, this.pmt, this.counters),
    ]);
  }

  /**
   * The transport packets of one frame (possibly preceded by a PCR-only packet). Returns an
   * empty Buffer for a video frame without NAL units.
   */
  writeFrame(frame: MediaFrame): Buffer {
    const track = frame.track;
    const isVideo = track.kind === 'video';
    const es = track.kind === 'video' ? this.videoEs(track, frame) : this.audioEs(track, frame);
    if (es.length === 0) return es;
    const pts = this.to90k(frame.pts, 'pts');
    const dts = this.to90k(frame.dts, 'dts');
    const header = buildPesHeader({
      streamId: isVideo ? STREAM_ID_VIDEO : STREAM_ID_AUDIO,
      pts,
      dts,
      dataLength: es.length,
      unbounded: isVideo,
    });
    const pid = isVideo ? VIDEO_PID : AUDIO_PID;
    // Room for every packet: 184 payload bytes each, the first one's adaptation field aside.
    const out = this.tsRoom((Math.ceil((header.length + es.length) / 170) + 1) * 188, es);
    if (pid === this.pcrPid) {
      const pcr27 = this.nextPcr(dts) * PCR_PER_90K;
      return packetizePes({
        pid,
        prefix: header,
        payload: es,
        counters: this.counters,
        pcr27,
        randomAccess: frame.keyframe,
        out,
      });
    }
    const pes = packetizePes({
      pid,
      prefix: header,
      payload: es,
      counters: this.counters,
      randomAccess: frame.keyframe,
      out,
    });
    const candidate = dts - PCR_LEAD_90K;
    if (this.lastPcr90 !== undefined && candidate - this.lastPcr90 <= PCR_MAX_GAP_90K) return pes;
    const pcr27 = this.nextPcr(dts) * PCR_PER_90K;
    return Buffer.concat([pcrOnlyPacket(this.pcrPid, pcr27, this.counters), pes]);
  }

  private videoEs(track: VideoTrack, frame: MediaFrame): Buffer {
    const slot = this.video;
    if (!slot)
      throw new EstuaryError('ERR_MPEGTS_MUX', 'a video frame arrived but the PMT lists no video stream');
    if (track !== slot.track) {
      this.checkSameCodec(slot.track, track);
      slot.params = videoParamsFor(track);
      slot.track = track;
    }
    // Start codes replace the 4-byte lengths; an AUD and parameter sets may be added.
    const scratch = this.esRoom(frame.data.length + 64 + paramSetBytes(slot.params));
    return toAnnexBAccessUnit(frame.data, slot.params, frame.keyframe, scratch);
  }

  private audioEs(track: AudioTrack, frame: MediaFrame): Buffer {
    const slot = this.audio;
    if (!slot)
      throw new EstuaryError('ERR_MPEGTS_MUX', 'an audio frame arrived but the PMT lists no audio stream');
    if (track !== slot.track) {
      this.checkSameCodec(slot.track, track);
      const params = audioParamsFor(track);
      if (params.streamType !== slot.params.streamType) throw this.codecChanged(slot.track, track);
      slot.params = params;
      slot.track = track;
    }
    return toAudioAccessUnit(frame.data, slot.params);
  }

  /** A new sequence header may change the config but not the codec: the PMT is fixed. */
  private checkSameCodec(before: Track, after: Track): void {
    if (before.codec !== after.codec) throw this.codecChanged(before, after);
  }

  private codecChanged(before: Track, after: Track): EstuaryError {
    return new EstuaryError(
      'ERR_CODEC_UNSUPPORTED',
      `${before.kind} changed from ${before.codec} to ${after.codec} mid-stream; the PMT is fixed, so ` +
        'start a new TsMuxer (passing `counters` keeps continuity) and mark a discontinuity',
    );
  }

  /** Milliseconds → 90 kHz after the offset, unwrapped (the PES writer applies the 33-bit wrap). */
  private to90k(ms: number, what: string): number {
    const shifted = ms + this.timeOffsetMs;
    if (!Number.isFinite(shifted) || shifted < 0) {
      throw new EstuaryError(
        'ERR_MPEGTS_MUX',
        `${what} ${ms} ms is before the offset of ${this.timeOffsetMs} ms`,
      );
    }
    return msToTimescale(shifted, CLOCK_90K);
  }

  /** The PCR for a PES decoded at `dts90`, held back from running backwards. */
  private nextPcr(dts90: number): number {
    const candidate = Math.max(0, dts90 - PCR_LEAD_90K);
    const pcr = this.lastPcr90 === undefined ? candidate : Math.max(candidate, this.lastPcr90);
    this.lastPcr90 = pcr;
    return pcr;
  }
}
