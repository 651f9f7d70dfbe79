/** Test tracks: the avcC and AudioSpecificConfig FFmpeg wrote for a 320x240 High / AAC-LC stereo file. */
import type { AudioTrack, VideoTrack } from '../../../../src/media/track.js';

export const AVCC = Buffer.from(
  '0164000dffe100196764000dacd94141fb011000000300100000030320f142996001000668ebe3cb22c0fdf8f800',
  'hex',
);
/** AAC-LC (2), 44.1 kHz (index 4), 2 channels: 00010 0100 0010 000 = 0x12 0x10 (14496-3 1.6.2.1). */
export const ASC = Buffer.from([0x12, 0x10]);

export const video: VideoTrack = { kind: 'video', codec: 'h264', config: AVCC, width: 320, height: 240 };
export const audio: AudioTrack = { kind: 'audio', codec: 'aac', config: ASC, sampleRate: 44100, channels: 2 };
