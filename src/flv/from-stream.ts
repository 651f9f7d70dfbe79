import type { Logger } from 'pino';
import {
  audioSequenceHeaderBody,
  flvTagTypeOf,
  frameToFlvBody,
  videoSequenceHeaderBody,
} from '../formats/flv/frame-to-flv.js';
import { encodeFlvHeader } from '../formats/flv/header.js';
import { encodeFlvTag, FlvTagType } from '../formats/flv/tag.js';
import { FanOut, type FormatEncoder } from '../hub/fan-out.js';
import type { LiveStream } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { ViewerBudget } from '../hub/viewer.js';
import type { MediaFrame } from '../media/frame.js';
import { wrap32 } from '../media/time.js';
import type { Track } from '../media/track.js';

/** The live stream as an FLV byte stream: shared by HTTP-FLV and WebSocket-FLV viewers. */
export class FlvFormatEncoder implements FormatEncoder {
  header(stream: LiveStream): Buffer {
    let audio = stream.audioTrack !== undefined;
    let video = stream.videoTrack !== undefined;
    if (!audio && !video) {
      // Nothing known yet: the metadata says what is coming, else announce both (players wait).
      const m = stream.metadata?.values;
      audio = m ? m.audiocodecid !== undefined : true;
      video = m ? m.videocodecid !== undefined : true;
    }
    return encodeFlvHeader({ audio, video });
  }

  metadata(stream: LiveStream): Buffer | undefined {
    return stream.metadata && encodeFlvTag(FlvTagType.Script, 0, stream.metadata.body);
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

/** The stream's one FLV fan-out (created on first use, released when its last viewer leaves). */
export function flvFanOut(hub: StreamHub, stream: LiveStream, log: Logger, budget: ViewerBudget): FanOut {
  return stream.sharedOutput(
    'flv',
    () => new FanOut(stream, new FlvFormatEncoder(), log, (f) => hub.unsubscribe(stream, f), budget),
  );
}
