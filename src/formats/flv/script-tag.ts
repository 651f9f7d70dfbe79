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
 * Reads onMetaData from a script data tag body (FLV spec E.4.4). Only the values needed are
 * decoded, so trailing bytes some encoders append do not matter. Other script data (onCuePoint,
 * onTextData, …) returns undefined.
 */
export function parseScriptTag(body: Buffer): ScriptMetadata | undefined {
  if (body.length === 0) return undefined;
  let first = decodeAmf0Value(body, 0);
  let start = 0;
  if (first.value === SET_DATA_FRAME) {
    start = first.offset;
    if (start >= body.length) return undefined;
    first = decodeAmf0Value(body, start);
  }
  if (first.value !== ON_METADATA) return undefined;
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
