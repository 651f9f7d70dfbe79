/**
 * The JSON shapes the API gives a live stream: `streamInfo` for the web port's /api/streams and
 * `pushStreamInfo` for the seed's `GET /api?name=listPushStream` on the live port. Both are
 * documented in the README; change them only with it.
 */
import { codecDetails } from '../../codecs/codec-string.js';
import type { LiveStream } from '../../hub/live-stream.js';
import type { AudioTrack, VideoTrack } from '../../media/track.js';
import type { StreamSample, StreamStats } from './stream-stats.js';

export interface VideoInfo {
  codec: string;
  codecString: string | null;
  profile: string | null;
  level: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
}

export interface AudioInfo {
  codec: string;
  codecString: string | null;
  profile: string | null;
  sampleRate: number;
  channels: number;
}

export interface StreamInfo {
  app: string;
  stream: string;
  path: string;
  publisher: { clientId: string; protocol: string; remote: string } | null;
  startedAt: string;
  uptimeSeconds: number;
  video: VideoInfo | null;
  audio: AudioInfo | null;
  bitrateKbps: number;
  bytesIn: number;
  bytesOut: number;
  framesIn: number;
  viewers: { total: number } & Record<string, number>;
  history?: readonly StreamSample[];
}

/** The frame rate: measured from DTS when it can be, else what onMetaData says. */
function fpsOf(stream: LiveStream, stats: StreamStats): number | null {
  const measured = stats.fps(stream);
  if (measured !== undefined) return measured;
  const meta = stream.metadata?.values.framerate ?? stream.metadata?.values.videoframerate;
  return typeof meta === 'number' && meta > 0 ? meta : null;
}

export function videoInfo(track: VideoTrack, fps: number | null): VideoInfo {
  const d = codecDetails(track);
  return {
    codec: track.codec,
    codecString: d.codecString ?? null,
    profile: d.profile ?? null,
    level: d.level ?? null,
    width: track.width || null,
    height: track.height || null,
    fps,
  };
}

export function audioInfo(track: AudioTrack): AudioInfo {
  const d = codecDetails(track);
  return {
    codec: track.codec,
    codecString: d.codecString ?? null,
    profile: d.profile ?? null,
    sampleRate: track.sampleRate,
    channels: track.channels,
  };
}

export function streamInfo(
  stream: LiveStream,
  stats: StreamStats,
  withHistory: boolean,
  now = Date.now(),
): StreamInfo {
  const p = stream.publisher;
  return {
    app: stream.name.app,
    stream: stream.name.stream,
    path: stream.path,
    publisher: p ? { clientId: stats.clientId(p), protocol: p.protocol, remote: p.remote } : null,
    startedAt: new Date(stream.publishedAt).toISOString(),
    uptimeSeconds: Math.max(0, Math.round((now - stream.publishedAt) / 100) / 10),
    video: stream.videoTrack ? videoInfo(stream.videoTrack, fpsOf(stream, stats)) : null,
    audio: stream.audioTrack ? audioInfo(stream.audioTrack) : null,
    bitrateKbps: Math.round(stats.bitrate(stream, now) / 1000),
    bytesIn: stream.bytesIn,
    bytesOut: stream.bytesOut,
    framesIn: stream.framesIn,
    viewers: { total: stream.viewerCount, ...stream.viewers },
    ...(withHistory ? { history: stats.history(stream) } : {}),
  };
}

/**
 * One publisher as the seed's listPushStream lists it. Flat, with names close to
 * Node-Media-Server's publisher info (videoCodec, videoWidth, audioSamplerate, …); codec names
 * in capitals as FLV tools print them; a field the stream does not have is null.
 */
export interface PushStreamInfo {
  stream: string;
  app: string;
  name: string;
  clientId: string;
  protocol: string;
  ip: string;
  startTime: string;
  bytesIn: number;
  bitrateKbps: number;
  videoCodec: string | null;
  videoProfile: string | null;
  videoLevel: string | null;
  videoWidth: number | null;
  videoHeight: number | null;
  videoFps: number | null;
  audioCodec: string | null;
  audioProfile: string | null;
  audioSampleRate: number | null;
  audioChannels: number | null;
}

export function pushStreamInfo(stream: LiveStream, stats: StreamStats, now = Date.now()): PushStreamInfo {
  const info = streamInfo(stream, stats, false, now);
  const v = info.video;
  const a = info.audio;
  return {
    stream: stream.path,
    app: stream.name.app,
    name: stream.name.stream,
    clientId: info.publisher?.clientId ?? '',
    protocol: info.publisher?.protocol ?? '',
    ip: hostOf(info.publisher?.remote ?? ''),
    startTime: info.startedAt,
    bytesIn: info.bytesIn,
    bitrateKbps: info.bitrateKbps,
    videoCodec: v ? v.codec.toUpperCase() : null,
    videoProfile: v?.profile ?? null,
    videoLevel: v?.level ?? null,
    videoWidth: v?.width ?? null,
    videoHeight: v?.height ?? null,
    videoFps: v?.fps ?? null,
    audioCodec: a ? a.codec.toUpperCase() : null,
    audioProfile: a?.profile ?? null,
    audioSampleRate: a?.sampleRate ?? null,
    audioChannels: a?.channels ?? null,
  };
}

/** `127.0.0.1:5000` → `127.0.0.1`, `[::1]:5000` or `::1:5000`-style → the address part. */
function hostOf(remote: string): string {
  const at = remote.lastIndexOf(':');
  const host = at > 0 ? remote.slice(0, at) : remote;
  return host.replace(/^\[|\]$/g, '');
}
