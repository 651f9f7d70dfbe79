/**
 * onMetaData for a source that has none of its own (an MP4): what players read from it before the
 * first frame (FLV spec E.5 onMetaData), built from the tracks.
 */
import { metadataBody } from '../formats/flv/frame-to-flv.js';
import type { Track } from '../media/track.js';

/** videocodecid / audiocodecid (E.5): FLV's codec ids, or for Enhanced RTMP codecs the FourCC as a number. */
const VIDEO_CODEC_ID: Readonly<Record<string, number>> = {
  h264: 7,
  h265: 0x68766331, // 'hvc1'
  av1: 0x61763031, // 'av01'
  vp9: 0x76703039, // 'vp09'
};
const AUDIO_CODEC_ID: Readonly<Record<string, number>> = {
  mp3: 2,
  aac: 10,
  opus: 0x4f707573, // 'Opus'
};

export function metadataValues(tracks: readonly Track[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const t of tracks) {
    if (t.kind === 'video') {
      if (t.width > 0) values.width = t.width;
      if (t.height > 0) values.height = t.height;
      const id = VIDEO_CODEC_ID[t.codec];
      if (id !== undefined) values.videocodecid = id;
    } else {
      values.audiosamplerate = t.sampleRate;
      values.stereo = t.channels > 1;
      const id = AUDIO_CODEC_ID[t.codec];
      if (id !== undefined) values.audiocodecid = id;
    }
  }
  values.encoder = 'Estuary pusher';
  return values;
}

export function metadataFor(tracks: readonly Track[]): { values: Record<string, unknown>; body: Buffer } {
  const values = metadataValues(tracks);
  return { values, body: metadataBody(values) };
}
