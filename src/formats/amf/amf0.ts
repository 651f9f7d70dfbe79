/**
 * AMF0 (Adobe "Action Message Format -- AMF 0", 2006): the encoding of RTMP commands and
 * metadata. Section numbers below refer to that document.
 */
import {
  AmfCursor,
  type AmfLimits,
  type AmfMark,
  type AmfSize,
  amfError,
  amfLimitError,
  setProperty,
} from './amf-cursor.js';
import { Amf3Context, readAmf3 } from './amf3.js';
import { type AmfObject, type AmfValue, MAX_AMF_DEPTH } from './value.js';

/** AMF0 type markers, section 2.1. */
export const Amf0Marker = {
  Number: 0x00,
  Boolean: 0x01,
  String: 0x02,
  Object: 0x03,
  MovieClip: 0x04,
  Null: 0x05,
  Undefined: 0x06,
  Reference: 0x07,
  EcmaArray: 0x08,
  ObjectEnd: 0x09,
  StrictArray: 0x0a,
  Date: 0x0b,
  LongString: 0x0c,
  Unsupported: 0x0d,
  RecordSet: 0x0e,
  XmlDocument: 0x0f,
  TypedObject: 0x10,
  AvmPlus: 0x11,
} as const;

// ---------------------------------------------------------------- encode

/** Encodes each value in turn, as RTMP command and data messages lay them out. */
export function encodeAmf0(...values: AmfValue[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) writeValue(parts, v, 0);
  return Buffer.concat(parts);
}

/** Encodes one ECMA array (section 2.10), the form onMetaData uses. */
export function encodeAmf0EcmaArray(obj: AmfObject): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(5);
  head[0] = Amf0Marker.EcmaArray;
  head.writeUInt32BE(Object.keys(obj).length, 1); // associative-count, a hint only
  parts.push(head);
  writeProperties(parts, obj, 0);
  return Buffer.concat(parts);
}

function byte(b: number): Buffer {
  return Buffer.from([b]);
}

/** UTF-8 with a u16 length (section 1.3 "UTF-8"), used for short strings and property names. */
function utf8Short(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  if (body.length > 0xffff)
    throw amfError(`AMF0 encode: property name of ${body.length} bytes exceeds 65535`);
  const b = Buffer.alloc(2 + body.length);
  b.writeUInt16BE(body.length, 0);
  body.copy(b, 2);
  return b;
}

function writeValue(parts: Buffer[], v: AmfValue, depth: number): void {
  if (depth > MAX_AMF_DEPTH) throw amfError(`AMF0 encode: nesting deeper than ${MAX_AMF_DEPTH} (a cycle?)`);
  if (v === undefined) {
    parts.push(byte(Amf0Marker.Undefined));
  } else if (v === null) {
    parts.push(byte(Amf0Marker.Null));
  } else if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = Amf0Marker.Number;
    b.writeDoubleBE(v, 1);
    parts.push(b);
  } else if (typeof v === 'boolean') {
    parts.push(Buffer.from([Amf0Marker.Boolean, v ? 1 : 0]));
  } else if (typeof v === 'string') {
    writeString(parts, v);
  } else if (v instanceof Date) {
    // Section 2.13: ms since the epoch, then a time-zone field that "should be 0x0000".
    const b = Buffer.alloc(11);
    b[0] = Amf0Marker.Date;
    b.writeDoubleBE(v.getTime(), 1);
    parts.push(b);
  } else if (Array.isArray(v)) {
    const head = Buffer.alloc(5);
    head[0] = Amf0Marker.StrictArray;
    head.writeUInt32BE(v.length, 1);
    parts.push(head);
    for (const item of v) writeValue(parts, item, depth + 1);
  } else {
    parts.push(byte(Amf0Marker.Object));
    writeProperties(parts, v, depth);
  }
}

function writeString(parts: Buffer[], s: string): void {
  const body = Buffer.from(s, 'utf8');
  // Section 2.4 vs 2.14: the short form holds at most 65535 bytes.
  if (body.length <= 0xffff) {
    const head = Buffer.alloc(3);
    head[0] = Amf0Marker.String;
    head.writeUInt16BE(body.length, 1);
    parts.push(head, body);
  } else {
    const head = Buffer.alloc(5);
    head[0] = Amf0Marker.LongString;
    head.writeUInt32BE(body.length, 1);
    parts.push(head, body);
  }
}

/** Name/value pairs then the empty name and object-end marker (section 2.5). */
function writeProperties(parts: Buffer[], obj: AmfObject, depth: number): void {
  for (const [key, value] of Object.entries(obj)) {
    parts.push(utf8Short(key));
    writeValue(parts, value, depth + 1);
  }
  parts.push(Buffer.from([0x00, 0x00, Amf0Marker.ObjectEnd]));
}

// ---------------------------------------------------------------- decode

/**
 * Decodes values until the end of the buffer. Throws ERR_AMF_DECODE when malformed, ERR_AMF_LIMIT
 * past `limits` (all values of the buffer count together), the depth limit or on a cycle.
 */
export function decodeAmf0(buf: Buffer, limits?: AmfLimits): AmfValue[] {
  const dec = new Amf0Decoder(buf, 0, limits);
  const out: AmfValue[] = [];
  while (dec.cursor.remaining > 0) out.push(dec.read(0));
  return out;
}

/** Decodes one AMF0 value at `offset`. */
export function decodeAmf0Value(
  buf: Buffer,
  offset: number,
  limits?: AmfLimits,
): { value: AmfValue; offset: number } {
  const dec = new Amf0Decoder(buf, offset, limits);
  const value = dec.read(0);
  return { value, offset: dec.cursor.offset };
}

class Amf0Decoder {
  readonly cursor: AmfCursor;
  /** Section 2.9: complex values (objects and arrays) by order of appearance, for 0x07. */
  private readonly refs: AmfValue[] = [];
  /** Expanded size of each of `refs`; undefined while it is still being decoded. */
  private readonly sizes: (AmfSize | undefined)[] = [];

  constructor(buf: Buffer, offset: number, limits?: AmfLimits) {
    this.cursor = new AmfCursor(buf, offset, limits);
  }

  read(depth: number): AmfValue {
    if (depth > MAX_AMF_DEPTH) throw amfLimitError(`AMF0 nesting deeper than ${MAX_AMF_DEPTH} levels`);
    const cur = this.cursor;
    const at = cur.offset;
    cur.node();
    const marker = cur.u8('AMF0 marker');
    switch (marker) {
      case Amf0Marker.Number:
        return cur.f64('AMF0 number');
      case Amf0Marker.Boolean:
        return cur.u8('AMF0 boolean') !== 0;
      case Amf0Marker.String:
        return cur.utf8(cur.u16('AMF0 string length'), 'AMF0 string');
      case Amf0Marker.LongString:
        return cur.utf8(cur.u32('AMF0 long string length'), 'AMF0 long string');
      case Amf0Marker.XmlDocument:
        return cur.utf8(cur.u32('AMF0 XML length'), 'AMF0 XML document');
      case Amf0Marker.Null:
        return null;
      case Amf0Marker.Undefined:
      case Amf0Marker.Unsupported: // section 2.15: a placeholder, not an error
        return undefined;
      case Amf0Marker.Object:
        return this.readObject(depth, false);
      case Amf0Marker.TypedObject:
        cur.utf8(cur.u16('AMF0 class name length'), 'AMF0 class name');
        return this.readObject(depth, false);
      case Amf0Marker.EcmaArray:
        cur.u32('AMF0 ECMA array count'); // a hint; the end marker is what ends the array
        return this.readObject(depth, true);
      case Amf0Marker.StrictArray:
        return this.readStrictArray(depth);
      case Amf0Marker.Date: {
        const ms = cur.f64('AMF0 date');
        cur.s16('AMF0 date time-zone'); // section 2.13: reserved, ignored
        return new Date(ms);
      }
      case Amf0Marker.Reference: {
        const index = cur.u16('AMF0 reference');
        if (index >= this.refs.length) {
          throw amfError(
            `AMF0 reference ${index} at offset ${at} out of range (${this.refs.length} objects)`,
          );
        }
        cur.expand(this.sizes[index], `reference ${index} at offset ${at}`);
        return this.refs[index];
      }
      case Amf0Marker.AvmPlus:
        // Section 3.1: the next value is AMF3, with its own reference tables.
        return readAmf3(cur, new Amf3Context(), depth + 1);
      default:
        throw amfError(`unknown or unsupported AMF0 marker 0x${marker.toString(16)} at offset ${at}`);
    }
  }

  /** Registers a complex value for references; returns what `done` needs. */
  private begin(value: AmfValue): { index: number; mark: AmfMark } {
    this.refs.push(value);
    this.sizes.push(undefined);
    return { index: this.refs.length - 1, mark: this.cursor.mark() };
  }

  private done(entry: { index: number; mark: AmfMark }): void {
    this.sizes[entry.index] = this.cursor.sizeSince(entry.mark);
  }

  /**
   * Object properties up to the empty name + 0x09 (section 2.5). `lenient` (ECMA arrays only)
   * accepts the buffer ending where a name would start: some encoders omit the end marker of
   * onMetaData's array.
   */
  private readObject(depth: number, lenient: boolean): AmfObject {
    const cur = this.cursor;
    const obj: AmfObject = {};
    const entry = this.begin(obj);
    for (;;) {
      if (lenient && cur.remaining === 0) break;
      const key = cur.utf8(cur.u16('AMF0 property name length'), 'AMF0 property name');
      if (key === '') {
        const end = cur.u8('AMF0 object end');
        if (end !== Amf0Marker.ObjectEnd) {
          throw amfError(`AMF0 empty property name at offset ${cur.offset - 3} not followed by object end`);
        }
        break;
      }
      setProperty(obj, key, this.read(depth + 1));
    }
    this.done(entry);
    return obj;
  }

  private readStrictArray(depth: number): AmfValue[] {
    const cur = this.cursor;
    const count = cur.u32('AMF0 strict array count');
    // Each value takes at least its marker byte: refuse counts the buffer cannot hold.
    if (count > cur.remaining) {
      throw amfError(`AMF0 strict array claims ${count} values but only ${cur.remaining} bytes are left`);
    }
    const arr: AmfValue[] = [];
    const entry = this.begin(arr);
    for (let i = 0; i < count; i++) arr.push(this.read(depth + 1));
    this.done(entry);
    return arr;
  }
}
