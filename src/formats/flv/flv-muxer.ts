/**
 * An FLV file or stream as a muxer object: tracks in, the header, onMetaData and the sequence
 * headers out, then one tag per frame, with a new sequence header whenever a frame brings a
 * track whose configuration differs (FLV announces a change in-band, E.4.3.1). Pure: Buffers out.
 */
import type { MediaFrame } from '../../media/frame.js';
import { wrap32 } from '../../media/time.js';
import type { AudioTrack, Track, VideoTrack } from '../../media/track.js';
import {
  audioSequenceHeaderBody,
  flvTagTypeOf,
  frameToFlvBody,
  metadataBody,
  videoSequenceHeaderBody,
} from './frame-to-flv.js';
import { encodeFlvHeader } from './header.js';
import { encodeFlvTag, FLV_TAG_HEADER_SIZE, FlvTagType } from './tag.js';

export interface FlvMuxerTracks {
  video?: VideoTrack;
  audio?: AudioTrack;
}

export interface FlvHead {
  /** Header, PreviousTagSize0, onMetaData and the sequence headers. */
  bytes: Buffer;
  /** Where the onMetaData body starts in `bytes` (to patch duration/filesize later). */
  metadataBodyOffset: number;
  metadataBody: Buffer;
}

function sameConfig(a: Track, b: Track): boolean {
  if (a.codec !== b.codec) return false;
  const configEqual = a.config && b.config ? a.config.equals(b.config) : a.config === b.config;
  if (a.kind === 'audio' && b.kind === 'audio') return configEqual && a.flvAudioHeader === b.flvAudioHeader;
  return configEqual;
}

export class FlvMuxer {
  private video: Track | undefined;
  private audio: Track | undefined;

  constructor(private readonly tracks: FlvMuxerTracks) {
    this.video = tracks.video;
    this.audio = tracks.audio;
  }

  /** The start of the file; `metadata` are onMetaData's values (E.5), e.g. duration: 0 to patch later. */
  head(metadata: Record<string, unknown>): FlvHead {
    const header = encodeFlvHeader({
      audio: this.tracks.audio !== undefined,
      video: this.tracks.video !== undefined,
    });
    const body = metadataBody(metadata);
    const parts = [header, encodeFlvTag(FlvTagType.Script, 0, body)];
    for (const t of [this.tracks.video, this.tracks.audio]) {
      const seq = t && this.sequenceHeader(t, 0);
      if (seq) parts.push(seq);
    }
    return {
      bytes: Buffer.concat(parts),
      metadataBodyOffset: header.length + FLV_TAG_HEADER_SIZE,
      metadataBody: body,
    };
  }

  /** The tag(s) of one frame: a sequence header first when its track's configuration changed. */
  frame(frame: MediaFrame): Buffer[] {
    const t = frame.track;
    const out: Buffer[] = [];
    const current = t.kind === 'video' ? this.video : this.audio;
    if (current !== t) {
      if (!current || !sameConfig(current, t)) {
        const seq = this.sequenceHeader(t, frame.dts);
        if (seq) out.push(seq);
      }
      if (t.kind === 'video') this.video = t;
      else this.audio = t;
    }
    // FLV timestamps are the dts; the composition time (pts - dts) is in the video tag (E.4.3.1).
    out.push(encodeFlvTag(flvTagTypeOf(frame), wrap32(frame.dts), frameToFlvBody(frame)));
    return out;
  }

  private sequenceHeader(t: Track, dts: number): Buffer | undefined {
    const body = t.kind === 'video' ? videoSequenceHeaderBody(t) : audioSequenceHeaderBody(t);
    return body && encodeFlvTag(t.kind === 'video' ? FlvTagType.Video : FlvTagType.Audio, wrap32(dts), body);
  }
}
