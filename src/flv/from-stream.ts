import type { Logger } from 'pino';
import {
  audioSequenceHeaderBody,
  flvTagTypeOf,
  frameToFlvBody,
  videoSequenceHeaderBody,
} from '../formats/flv/frame-to-flv.js';
import { encodeFlvHeader } from '../formats/flv/header.js';
import { metadataBody } from '../formats/flv/script-tag.js';
import { encodeFlvTag, FlvTagType } from '../formats/flv/tag.js';
import { FanOut, type FormatEncoder } from '../hub/fan-out.js';
import type { LiveStream } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { ViewerBudget } from '../hub/viewer.js';
import type { MediaFrame } from '../media/frame.js';
import { wrap32 } from '../media/time.js';
import type { Track } from '../media/track.js';
import { DEFAULT_PLAY_OPTIONS, type PlayOptions } from './play-options.js';

/** onMetaData keys that describe one track (E.5), left out with that track. */
const AUDIO_KEY = /^(audio|stereo$)/;
const VIDEO_KEY = /^(video|width$|height$|framerate$|fps$|displayWidth$|displayHeight$)/;

/**
 * The live stream as an FLV byte stream: shared by HTTP-FLV and WebSocket-FLV viewers. One
 * encoder per output: the whole stream, or (per-viewer options) one with a track kind left out,
 * whose header flags, metadata and tags all say so.
 */
export class FlvFormatEncoder implements FormatEncoder {
  constructor(private readonly kinds: { audio: boolean; video: boolean } = DEFAULT_PLAY_OPTIONS) {}

  carries(kind: 'audio' | 'video'): boolean {
    return this.kinds[kind];
  }

  header(stream: LiveStream): Buffer {
    let audio = stream.audioTrack !== undefined;
    let video = stream.videoTrack !== undefined;
    if (!audio && !video) {
      // Nothing known yet: the metadata says what is coming, else announce both (players wait).
      const m = stream.metadata?.values;
      audio = m ? m.audiocodecid !== undefined : true;
      video = m ? m.videocodecid !== undefined : true;
    }
    return encodeFlvHeader({ audio: audio && this.kinds.audio, video: video && this.kinds.video });
  }

  metadata(stream: LiveStream): Buffer | undefined {
    const m = stream.metadata;
    if (!m) return undefined;
    if (this.kinds.audio && this.kinds.video) return encodeFlvTag(FlvTagType.Script, 0, m.body);
    // A player believes onMetaData over the header (mpegts.js waits for a track hasAudio promises),
    // so the metadata of an output without a track must not describe it. Re-encoded once per
    // metadata change (FanOut caches it).
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(m.values)) {
      if (!this.kinds.audio && AUDIO_KEY.test(k)) continue;
      if (!this.kinds.video && VIDEO_KEY.test(k)) continue;
      values[k] = v;
    }
    if (!this.kinds.audio && 'hasAudio' in m.values) values.hasAudio = false;
    if (!this.kinds.video && 'hasVideo' in m.values) values.hasVideo = false;
    return encodeFlvTag(FlvTagType.Script, 0, metadataBody(values));
  }

  track(track: Track, ts: number): Buffer | undefined {
    const body = track.kind === 'video' ? videoSequenceHeaderBody(track) : audioSequenceHeaderBody(track);
    return (
      body && encodeFlvTag(track.kind === 'video' ? FlvTagType.Video : FlvTagType.Audio, wrap32(ts), body)
    );
  }

  frame(frame: MediaFrame): Buffer {
    return encodeFlvTag(flvTagTypeOf(frame), wrap32(frame.dts), frameToFlvBody(frame));
  }
}

/**
 * The stream's FLV fan-out for viewers of one audio/video choice: one for the whole stream, one
 * more for each `disableAudio` / `disableVideo` choice someone watches (created on first use,
 * released when its last viewer leaves). `disableGop` is a join mode of the same fan-out.
 */
export function flvFanOut(
  hub: StreamHub,
  stream: LiveStream,
  log: Logger,
  budget: ViewerBudget,
  options: Pick<PlayOptions, 'audio' | 'video'> = DEFAULT_PLAY_OPTIONS,
): FanOut {
  const kinds = { audio: options.audio, video: options.video };
  const key = kinds.audio && kinds.video ? 'flv' : kinds.audio ? 'flv:audio-only' : 'flv:video-only';
  return stream.sharedOutput(
    key,
    () => new FanOut(stream, new FlvFormatEncoder(kinds), log, (f) => hub.unsubscribe(stream, f), budget),
  );
}
