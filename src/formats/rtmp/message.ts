/**
 * One reassembled RTMP message (spec section 6.1 message format, carried by the chunk stream of
 * section 5.3).
 */
export interface RtmpMessage {
  /** Message type id, see `MessageType`. */
  type: number;
  /** Message stream id: 0 for NetConnection traffic, the createStream result for NetStream. */
  streamId: number;
  /** Absolute timestamp in milliseconds, 32 bits (wraps; unwrap with media/time). */
  timestamp: number;
  /** The chunk stream the message came on or goes out on (2..65599). */
  chunkStreamId: number;
  payload: Buffer;
}

/**
 * Chunk stream ids Estuary sends on. Only 2 is fixed by the spec (section 5.4: protocol control
 * messages "MUST" use chunk stream id 2); the rest follow nginx-rtmp and FFmpeg habits so that
 * commands, status events and each media type never interleave on one chunk stream.
 */
export const ChunkStreamId = {
  Control: 2,
  Command: 3,
  Data: 4,
  Status: 5,
  Audio: 6,
  Video: 7,
} as const;

/** Chunk size every RTMP connection starts with, in both directions (spec section 5.4.1). */
export const DEFAULT_CHUNK_SIZE = 128;
