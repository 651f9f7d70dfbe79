/**
 * `import … from 'estuary'`: the media formats as a library, and the converter behind
 * `estuary convert`. Only pure format code and the file converter are reachable from here:
 * importing this starts no server, opens no socket and installs no signal handler.
 *
 * The vocabulary is one frame model (MediaFrame, Track): demuxers give frames, muxers take them.
 */

export {
  type ConvertOptions,
  type ConvertProgress,
  type ConvertResult,
  convertFile,
} from './convert/convert.js';
export {
  CONVERT_EXIT_CODES,
  ConvertError,
  type ConvertErrorKind,
  isConvertError,
} from './convert/convert-error.js';
export { type OutputKind, outputKindFor } from './convert/output-kind.js';
export { type ErrorCode, EstuaryError, isEstuaryError } from './errors.js';
export { type FlvHead, FlvMuxer, type FlvMuxerTracks } from './formats/flv/flv-muxer.js';
export { type FlvDemuxEvent, FlvToFrames } from './formats/flv/flv-to-frame.js';
export {
  audioSequenceHeaderBody,
  frameToFlvBody,
  metadataBody,
  videoSequenceHeaderBody,
} from './formats/flv/frame-to-flv.js';
export { encodeFlvHeader, parseFlvHeader } from './formats/flv/header.js';
export { parseScriptTag } from './formats/flv/script-tag.js';
export { encodeFlvTag, type FlvTag, FlvTagType } from './formats/flv/tag.js';
// FLV: bytes → tags → frames, frames → tags
export { FlvTagReader, type FlvTagReaderOptions } from './formats/flv/tag-reader.js';
export { parseMediaPlaylist } from './formats/m3u8/parse-playlist.js';
export {
  type MasterPlaylist,
  type MediaPlaylist,
  renderMasterPlaylist,
  renderMediaPlaylist,
} from './formats/m3u8/playlist.js';
// MP4: demuxer (progressive and fragmented), fMP4 muxer, fast-start movie
export {
  bufferReader,
  type DemuxedTrack,
  type DemuxerOptions,
  Mp4Demuxer,
  type RandomAccessReader,
} from './formats/mp4/demuxer.js';
export {
  type Fmp4Fragment,
  type Fmp4FragmentInput,
  Fmp4Muxer,
  type Fmp4Tracks,
} from './formats/mp4/fmp4-muxer.js';
export { buildFragment, buildFragmentParts, type FragmentTrack } from './formats/mp4/fragment.js';
export { TrackTimeline, timelineForTrack } from './formats/mp4/fragment-timing.js';
export { buildInitSegment } from './formats/mp4/init-segment.js';
export { type FastStartLayout, layoutFastStart, type MovieTrackTables } from './formats/mp4/movie.js';
export { SampleTableBuilder } from './formats/mp4/sample-table-builder.js';
// MPEG-TS and HLS playlists
export {
  isTsCodecSupported,
  TsMuxer,
  type TsMuxerOptions,
  type TsMuxerTracks,
} from './formats/mpegts/ts-writer.js';
// Media model
export type { MediaFrame } from './media/frame.js';
export { TimestampUnwrapper } from './media/time.js';
export type { AudioCodec, AudioTrack, Track, VideoCodec, VideoTrack } from './media/track.js';
export { describeTrack } from './media/track.js';
// Files: a media file as frames, and the converter
export { type MediaFileSource, openMediaFile, type SourceEvent } from './pusher/file-source.js';
