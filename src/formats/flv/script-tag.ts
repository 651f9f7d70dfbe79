import { EstuaryError } from '../../errors.js';
import { decodeAmf0Value, encodeAmf0, encodeAmf0EcmaArray } from '../amf/amf0.js';
import { type AmfObject, isAmfObject } from '../amf/value.js';

/** RTMP publishers wrap metadata as @setDataFrame("onMetaData", {...}); FLV files store onMetaData directly. */
const SET_DATA_FRAME = '@setDataFrame';
const ON_METADATA = 'onMetaData';

export interface ScriptMetadata {
  values: Record<string, unknown>;
  /** The tag body from the "onMetaData" string on, as received (the @setDataFrame prefix removed). */
  body: Buffer;
}

/**
 * The largest onMetaData accepted. Encoders send a few hundred bytes (FFmpeg, OBS); a keyframe
 * index written by yamdi for a 3-hour file is about 50 KB. The bytes are kept for every joining
 * viewer and re-encoded into each FLV recording.
 */
export const MAX_METADATA_BYTES = 64 * 1024;

/** AMF0 string marker (AMF0 spec 2.4): script data starts with its name as a string. */
const STRING_MARKER = 0x02;

/**
 * Reads onMetaData from a script data tag body (FLV spec E.4.4). Only the values needed are
 * decoded, so trailing bytes some encoders append do not matter. Other script data (onCuePoint,
 * onTextData, …) returns undefined. onMetaData over MAX_METADATA_BYTES, or whose values are over
 * the AMF decoder's bounds (depth, values with references expanded, a cycle), throws
 * ERR_AMF_LIMIT: the caller drops it and the stream goes on.
 */
export function parseScriptTag(body: Buffer): ScriptMetadata | undefined {
  if (body.length === 0 || body[0] !== STRING_MARKER) return undefined;
  let first = decodeAmf0Value(body, 0);
  let start = 0;
  if (first.value === SET_DATA_FRAME) {
    start = first.offset;
    if (start >= body.length || body[start] !== STRING_MARKER) return undefined;
    first = decodeAmf0Value(body, start);
  }
  if (first.value !== ON_METADATA) return undefined;
  if (body.length - start > MAX_METADATA_BYTES) {
    throw new EstuaryError(
      'ERR_AMF_LIMIT',
      `onMetaData of ${body.length - start} bytes is over the limit of ${MAX_METADATA_BYTES}`,
    );
  }
  let values: Record<string, unknown> = {};
  if (first.offset < body.length) {
    const obj = decodeAmf0Value(body, first.offset).value;
    if (isAmfObject(obj)) values = obj;
  }
  return { values, body: body.subarray(start) };
}

/** A script data body: the string "onMetaData" then an ECMA array (E.5 onMetaData). */
export function metadataBody(values: Record<string, unknown>): Buffer {
  // The AMF encoder accepts its own value model; metadata values are decoded AMF values or
  // plain numbers/strings/booleans set by the server, which that model covers.
  return Buffer.concat([encodeAmf0(ON_METADATA), encodeAmf0EcmaArray(values as AmfObject)]);
}
