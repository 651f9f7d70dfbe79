import { describeError, EstuaryError, isEstuaryError } from '../../errors.js';
import type { MediaFrame } from '../../media/frame.js';
import type { AudioTrack, Track, VideoTrack } from '../../media/track.js';
import { type AudioTagContent, parseAudioTag } from './audio-tag.js';
import {
  audioTrackFromConfig,
  audioTrackFromHeader,
  legacyVideoTrack,
  videoTrackFromConfig,
} from './flv-tracks.js';
import { parseScriptTag } from './script-tag.js';
import { type FlvTag, FlvTagType } from './tag.js';
import { parseVideoTag, type VideoTagContent } from './video-tag.js';

export type FlvDemuxEvent =
  | { kind: 'track'; track: Track }
  | { kind: 'frame'; frame: MediaFrame }
  | { kind: 'metadata'; values: Record<string, unknown>; body: Buffer };

/**
 * Turns FLV tags into tracks and frames (the to-stream half of every FLV-based ingest). Stateful:
 * it keeps the current video and audio track; a changed sequence header or legacy header byte
 * makes a new Track object, announced before the frames that use it.
 *
 * Frame and track payloads are subarrays of the tag body, so they live as long as the body does.
 */
export class FlvToFrames {
  private video: VideoTrack | undefined;
  private audio: AudioTrack | undefined;
  private droppedFrames = 0;
  private droppedMetadataCount = 0;
  private lastDropReason = '';

  get videoTrack(): VideoTrack | undefined {
    return this.video;
  }

  get audioTrack(): AudioTrack | undefined {
    return this.audio;
  }

  /** Coded frames dropped because no sequence header had described their codec yet. */
  get dropped(): number {
    return this.droppedFrames;
  }

  /**
   * onMetaData tags dropped because they are over the bounds (ERR_AMF_LIMIT: size, depth,
   * values with references expanded, a cycle); the stream goes on without them.
   */
  get droppedMetadata(): { count: number; lastReason: string } {
    return { count: this.droppedMetadataCount, lastReason: this.lastDropReason };
  }

  /** `timestampMs` is the tag's timestamp already unwrapped to the monotonic clock (the frame's dts). */
  push(tag: FlvTag, timestampMs: number): FlvDemuxEvent[] {
    switch (tag.type) {
      case FlvTagType.Video:
        return this.onVideo(parseVideoTag(tag.body), timestampMs);
      case FlvTagType.Audio:
        return this.onAudio(parseAudioTag(tag.body), timestampMs);
      case FlvTagType.Script: {
        let meta: ReturnType<typeof parseScriptTag>;
        try {
          meta = parseScriptTag(tag.body);
        } catch (err) {
          if (!isEstuaryError(err, 'ERR_AMF_LIMIT')) throw err;
          this.droppedMetadataCount += 1;
          this.lastDropReason = describeError(err);
          return [];
        }
        return meta ? [{ kind: 'metadata', values: meta.values, body: meta.body }] : [];
      }
      default:
        throw new EstuaryError(
          'ERR_FLV_FORMAT',
          `FLV tag type ${tag.type} is not audio (8), video (9) or script (18)`,
        );
    }
  }

  private onVideo(c: VideoTagContent, dts: number): FlvDemuxEvent[] {
    switch (c.kind) {
      case 'none':
        return [];
      case 'config': {
        const cur = this.video;
        if (cur && cur.codec === c.codec && cur.config?.equals(c.config)) return [];
        this.video = videoTrackFromConfig(c.codec, c.config);
        return [{ kind: 'track', track: this.video }];
      }
      case 'frame': {
        const track = this.video;
        if (!track || track.codec !== c.codec) {
          this.droppedFrames += 1;
          return [];
        }
        return [frameEvent(track, dts, dts + c.cts, c.keyframe, c.data)];
      }
      case 'legacy': {
        const events: FlvDemuxEvent[] = [];
        if (this.video?.codec !== 'legacy' || this.video.legacyCodecId !== c.codecId) {
          this.video = legacyVideoTrack(c.codecId);
          events.push({ kind: 'track', track: this.video });
        }
        events.push(frameEvent(this.video, dts, dts, c.keyframe, c.data));
        return events;
      }
    }
  }

  private onAudio(c: AudioTagContent, dts: number): FlvDemuxEvent[] {
    switch (c.kind) {
      case 'none':
        return [];
      case 'config': {
        const cur = this.audio;
        if (cur && cur.codec === c.codec && cur.config?.equals(c.config)) return [];
        this.audio = audioTrackFromConfig(c.codec, c.config);
        return [{ kind: 'track', track: this.audio }];
      }
      case 'frame': {
        const track = this.audio;
        if (!track || track.codec !== c.codec) {
          this.droppedFrames += 1;
          return [];
        }
        return [frameEvent(track, dts, dts, true, c.data)];
      }
      case 'legacy': {
        const events: FlvDemuxEvent[] = [];
        if (!this.audio || this.audio.codec !== c.codec || this.audio.flvAudioHeader !== c.header) {
          this.audio = audioTrackFromHeader(c.codec, c.header);
          events.push({ kind: 'track', track: this.audio });
        }
        events.push(frameEvent(this.audio, dts, dts, true, c.data));
        return events;
      }
    }
  }
}

function frameEvent(track: Track, dts: number, pts: number, keyframe: boolean, data: Buffer): FlvDemuxEvent {
  return { kind: 'frame', frame: { track, dts, pts, keyframe, data } };
}
