/**
 * The coded error catalogue. Every error Estuary raises on purpose carries one of these codes;
 * `docs/errors.md` documents each, and `test/unit/errors.test.ts` keeps the two in sync.
 * Pure layers (formats, codecs) throw these; sessions catch them, close the one connection
 * concerned and log the code and message once.
 */
export const ERROR_CODES = {
  ERR_AMF_DECODE: 'An AMF0/AMF3 value is malformed or truncated',
  ERR_AMF_LIMIT:
    'An AMF0/AMF3 value is beyond the bounds Estuary accepts (size, nesting depth, values once references are expanded, a cycle)',
  ERR_RTMP_HANDSHAKE: 'The RTMP handshake bytes are not a valid C0/C1/C2 (or S0/S1/S2)',
  ERR_RTMP_CHUNK:
    'An RTMP chunk stream is malformed (bad chunk size, unknown chunk stream, oversized message)',
  ERR_RTMP_COMMAND: 'An RTMP command message is malformed or arrived out of order',
  ERR_FLV_FORMAT: 'FLV bytes are malformed (bad signature, oversized or truncated tag)',
  ERR_CODEC_UNSUPPORTED: 'A codec the output cannot carry',
  ERR_CODEC_CONFIG: 'A codec configuration record (avcC, hvcC, AudioSpecificConfig, SPS) is malformed',
  ERR_MP4_FORMAT: 'MP4 bytes are malformed',
  ERR_MPEGTS_MUX:
    'The MPEG-TS muxer was given a frame it cannot place (a track its PMT does not list, an oversized audio PES)',
  ERR_M3U8_FORMAT: 'An HLS playlist is malformed, or the values given to render one are invalid',
  ERR_STREAM_NAME: 'A stream name is not {app}/{stream} with each part 1-64 characters of [A-Za-z0-9_-]',
  ERR_STREAM_BUSY: 'Another publisher already publishes this stream name',
  ERR_STREAM_NOT_FOUND: 'Nobody publishes this stream (here, or at the upstream an edge pulls from)',
  ERR_AUTH:
    'The publish or play request is refused: its signature or stream key is wrong or expired, its address is not allowed, or a callback refused it',
  ERR_AUTH_REQUIRED:
    'The publish or play request carries no credentials (a signature or a stream key) where they are needed',
  ERR_CONFIG: 'The configuration (file, environment or flags) is invalid',
  ERR_RTMP_REFUSED: 'An RTMP server refused connect, createStream, publish or play (the reply names why)',
  ERR_CONNECTION_CLOSED: 'The connection closed before the answer a request waited for',
  ERR_UPSTREAM:
    'The upstream an edge pulls from failed: unreachable, an error status, not FLV, or it stalled',
  ERR_EDGE_LOOP:
    'A pull came back to the edge that sent it (a tier points at itself, directly or through others)',
  ERR_PLAY_OPTION:
    'A per-viewer play option (?disableAudio, ?disableVideo, ?disableGop) has a value other than 1/0, or the options leave nothing to play',
  ERR_NOT_FOUND: 'No such resource on this port (an unknown API path or API name, a missing file)',
  ERR_METHOD_NOT_ALLOWED: 'The path exists but not for this HTTP method',
  ERR_ADMIN_TOKEN:
    'An admin API call without the admin token (Authorization: Bearer TOKEN), or with a wrong one',
  ERR_LIMIT:
    'A bound against abuse was reached (publishers at once, viewers of one stream); the server is not broken, only full',
  ERR_INTERNAL: 'The server failed while answering (logged on the server; the client sees no details)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class EstuaryError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EstuaryError';
    this.code = code;
  }
}

export function isEstuaryError(err: unknown, code?: ErrorCode): err is EstuaryError {
  return err instanceof EstuaryError && (code === undefined || err.code === code);
}

/**
 * How an error is told to a client or a log line, by every protocol: `CODE: message` for a
 * catalogued error, the message for any other Error, the value itself for a non-Error throw.
 */
export function describeError(err: unknown): string {
  if (err instanceof EstuaryError) return `${err.code}: ${err.message}`;
  return errorMessage(err);
}

/** The message alone (no code): for text that already says what failed. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `err` as an Error (a non-Error throw is wrapped, its text kept as the message). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
