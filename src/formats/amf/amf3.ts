/**
 * AMF3 decoder (Adobe "Action Message Format -- AMF 3", 2013), enough for what RTMP clients send
 * with objectEncoding 3: every marker of section 3 except externalizable objects, whose body
 * format only the class itself knows. Encoding AMF3 is not needed: the server always answers
 * in AMF0.
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
import { type AmfObject, type AmfValue, MAX_AMF_DEPTH } from './value.js';

/** AMF3 type markers, spec section 3.1. */
const M = {
  Undefined: 0x00,
  Null: 0x01,
  False: 0x02,
  True: 0x03,
  Integer: 0x04,
  Double: 0x05,
  String: 0x06,
  XmlDoc: 0x07,
  Date: 0x08,
  Array: 0x09,
  Object: 0x0a,
  Xml: 0x0b,
  ByteArray: 0x0c,
  VectorInt: 0x0d,
  VectorUint: 0x0e,
  VectorDouble: 0x0f,
  VectorObject: 0x10,
  Dictionary: 0x11,
} as const;

interface Traits {
  dynamic: boolean;
  names: string[];
}

/** The three reference tables of spec section 2.2; they live for one AMF3 value tree. */
export class Amf3Context {
  readonly strings: string[] = [];
  readonly objects: AmfValue[] = [];
  readonly traits: Traits[] = [];
  /** Expanded size of each of `objects`; undefined while it is still being decoded. */
  readonly objectSizes: (AmfSize | undefined)[] = [];
}

/**
 * Decodes one AMF3 value at `offset`. A fresh reference context is used unless one is given
 * (the AMF0 decoder passes none: each AVM+ switch starts a new AMF3 value tree).
 */
export function decodeAmf3Value(
  buf: Buffer,
  offset: number,
  ctx: Amf3Context = new Amf3Context(),
  limits?: AmfLimits,
): { value: AmfValue; offset: number } {
  const cur = new AmfCursor(buf, offset, limits);
  const value = readAmf3(cur, ctx, 0);
  return { value, offset: cur.offset };
}

/** Reads one value from a cursor; `depth` counts enclosing containers (also across AMF0). */
export function readAmf3(cur: AmfCursor, ctx: Amf3Context, depth: number): AmfValue {
  if (depth > MAX_AMF_DEPTH) throw amfLimitError(`AMF3 nesting deeper than ${MAX_AMF_DEPTH} levels`);
  const at = cur.offset;
  cur.node();
  const marker = cur.u8('AMF3 marker');
  switch (marker) {
    case M.Undefined:
      return undefined;
    case M.Null:
      return null;
    case M.False:
      return false;
    case M.True:
      return true;
    case M.Integer: {
      // Section 1.3.1: a 29-bit two's complement integer.
      const u = readU29(cur);
      return u & 0x10000000 ? u - 0x20000000 : u;
    }
    case M.Double:
      return cur.f64('AMF3 double');
    case M.String:
      return readString(cur, ctx);
    case M.XmlDoc:
    case M.Xml:
      return readXml(cur, ctx);
    case M.Date:
      return readDate(cur, ctx);
    case M.Array:
      return readArray(cur, ctx, depth);
    case M.Object:
      return readObject(cur, ctx, depth);
    case M.ByteArray:
      return readByteArray(cur, ctx);
    case M.VectorInt:
    case M.VectorUint:
    case M.VectorDouble:
    case M.VectorObject:
      return readVector(cur, ctx, marker, depth);
    case M.Dictionary:
      return readDictionary(cur, ctx, depth);
    default:
      throw amfError(`unknown AMF3 marker 0x${marker.toString(16)} at offset ${at}`);
  }
}

/** Section 1.3.1: variable-length unsigned 29-bit integer, 7 bits per byte then 8 in the 4th. */
export function readU29(cur: AmfCursor): number {
  let v = 0;
  for (let i = 0; i < 3; i++) {
    const b = cur.u8('AMF3 U29');
    v = (v << 7) | (b & 0x7f);
    if ((b & 0x80) === 0) return v;
  }
  return ((v << 8) | cur.u8('AMF3 U29')) >>> 0;
}

function reference<T>(table: T[], index: number, what: string): T {
  if (index >= table.length) throw amfError(`AMF3 ${what} reference ${index} out of range (${table.length})`);
  return table[index];
}

/** An object-table reference (section 2.2), counted as the value it refers to. */
function objectReference(cur: AmfCursor, ctx: Amf3Context, index: number): AmfValue {
  const value = reference(ctx.objects, index, 'object');
  cur.expand(ctx.objectSizes[index], `object reference ${index}`);
  return value;
}

/** Puts a value in the object table; its size is known once `finishObject` is called. */
function beginObject(cur: AmfCursor, ctx: Amf3Context, value: AmfValue): { index: number; mark: AmfMark } {
  ctx.objects.push(value);
  ctx.objectSizes.push(undefined);
  return { index: ctx.objects.length - 1, mark: cur.mark() };
}

function finishObject(cur: AmfCursor, ctx: Amf3Context, entry: { index: number; mark: AmfMark }): void {
  ctx.objectSizes[entry.index] = cur.sizeSince(entry.mark);
}

/** Section 3.8: U29S-ref or U29S-value; the empty string is never put in the table. */
export function readString(cur: AmfCursor, ctx: Amf3Context): string {
  const h = readU29(cur);
  if ((h & 1) === 0) {
    const s = reference(ctx.strings, h >>> 1, 'string');
    // A string reference costs what the string does when written out again.
    cur.expand({ nodes: 0, bytes: s.length }, 'string reference');
    return s;
  }
  const s = cur.utf8(h >>> 1, 'AMF3 string');
  if (s.length > 0) ctx.strings.push(s);
  return s;
}

/** A leaf of the object table (XML, Date, ByteArray): complete as soon as it is read. */
function readLeaf(cur: AmfCursor, ctx: Amf3Context, read: (len: number) => AmfValue): AmfValue {
  const h = readU29(cur);
  if ((h & 1) === 0) return objectReference(cur, ctx, h >>> 1);
  const entry = beginObject(cur, ctx, undefined);
  const value = read(h >>> 1);
  ctx.objects[entry.index] = value;
  finishObject(cur, ctx, entry);
  return value;
}

function readXml(cur: AmfCursor, ctx: Amf3Context): AmfValue {
  return readLeaf(cur, ctx, (len) => cur.utf8(len, 'AMF3 XML'));
}

function readDate(cur: AmfCursor, ctx: Amf3Context): AmfValue {
  // Section 3.7: the U29 holds no length, only the reference flag.
  return readLeaf(cur, ctx, () => new Date(cur.f64('AMF3 date')));
}

function readByteArray(cur: AmfCursor, ctx: Amf3Context): AmfValue {
  return readLeaf(cur, ctx, (len) => Array.from(cur.bytes(len, 'AMF3 byte array')));
}

/** Every encoded value takes at least one byte: a count above what is left is a lie. */
function checkCount(cur: AmfCursor, count: number, minBytesEach: number, what: string): void {
  if (count * minBytesEach > cur.remaining) {
    throw amfError(`AMF3 ${what} claims ${count} items but only ${cur.remaining} bytes are left`);
  }
}

/** Section 3.11: an associative part (name/value pairs up to "") then a dense part. */
function readArray(cur: AmfCursor, ctx: Amf3Context, depth: number): AmfValue {
  const h = readU29(cur);
  if ((h & 1) === 0) return objectReference(cur, ctx, h >>> 1);
  const denseCount = h >>> 1;
  const dense: AmfValue[] = [];
  const entry = beginObject(cur, ctx, dense);
  let assoc: AmfObject | undefined;
  for (let key = readString(cur, ctx); key !== ''; key = readString(cur, ctx)) {
    assoc ??= {};
    setProperty(assoc, key, readAmf3(cur, ctx, depth + 1));
  }
  checkCount(cur, denseCount, 1, 'array');
  for (let i = 0; i < denseCount; i++) dense.push(readAmf3(cur, ctx, depth + 1));
  finishObject(cur, ctx, entry);
  if (!assoc) return dense;
  // A mixed array has no JS array equivalent: dense items become keys "0", "1", ...
  for (let i = 0; i < dense.length; i++) setProperty(assoc, String(i), dense[i]);
  ctx.objects[entry.index] = assoc;
  return assoc;
}

/** Section 3.12: object reference, traits reference, or inline traits. */
function readObject(cur: AmfCursor, ctx: Amf3Context, depth: number): AmfValue {
  const at = cur.offset;
  const h = readU29(cur);
  if ((h & 1) === 0) return objectReference(cur, ctx, h >>> 1);
  let traits: Traits;
  if ((h & 2) === 0) {
    traits = reference(ctx.traits, h >>> 2, 'traits');
  } else if (h & 4) {
    throw amfError(`AMF3 externalizable object at offset ${at} is not supported`);
  } else {
    const sealedCount = h >>> 4;
    readString(cur, ctx); // class name: the value model has no typed objects
    checkCount(cur, sealedCount, 1, 'traits');
    const names: string[] = [];
    for (let i = 0; i < sealedCount; i++) names.push(readString(cur, ctx));
    traits = { dynamic: (h & 8) !== 0, names };
    ctx.traits.push(traits);
  }
  const obj: AmfObject = {};
  const entry = beginObject(cur, ctx, obj);
  for (const name of traits.names) setProperty(obj, name, readAmf3(cur, ctx, depth + 1));
  if (traits.dynamic) {
    for (let key = readString(cur, ctx); key !== ''; key = readString(cur, ctx)) {
      setProperty(obj, key, readAmf3(cur, ctx, depth + 1));
    }
  }
  finishObject(cur, ctx, entry);
  return obj;
}

/** Section 3.15: Vector.<int|uint|Number|Object>; decoded to a plain array. */
function readVector(cur: AmfCursor, ctx: Amf3Context, marker: number, depth: number): AmfValue {
  const h = readU29(cur);
  if ((h & 1) === 0) return objectReference(cur, ctx, h >>> 1);
  const count = h >>> 1;
  cur.u8('AMF3 vector fixed flag');
  const items: AmfValue[] = [];
  const entry = beginObject(cur, ctx, items);
  if (marker === M.VectorObject) {
    readString(cur, ctx); // element type name
    checkCount(cur, count, 1, 'vector');
    for (let i = 0; i < count; i++) items.push(readAmf3(cur, ctx, depth + 1));
  } else {
    const size = marker === M.VectorDouble ? 8 : 4;
    checkCount(cur, count, size, 'vector');
    for (let i = 0; i < count; i++) {
      cur.node();
      if (marker === M.VectorInt) items.push(cur.u32('AMF3 vector') | 0);
      else if (marker === M.VectorUint) items.push(cur.u32('AMF3 vector'));
      else items.push(cur.f64('AMF3 vector'));
    }
  }
  finishObject(cur, ctx, entry);
  return items;
}

/** Section 3.16: Dictionary; keys of any type are turned into strings for the plain-object model. */
function readDictionary(cur: AmfCursor, ctx: Amf3Context, depth: number): AmfValue {
  const h = readU29(cur);
  if ((h & 1) === 0) return objectReference(cur, ctx, h >>> 1);
  const count = h >>> 1;
  cur.u8('AMF3 dictionary weak-keys flag');
  checkCount(cur, count, 2, 'dictionary');
  const obj: AmfObject = {};
  const entry = beginObject(cur, ctx, obj);
  for (let i = 0; i < count; i++) {
    const key = readAmf3(cur, ctx, depth + 1);
    setProperty(obj, String(key), readAmf3(cur, ctx, depth + 1));
  }
  finishObject(cur, ctx, entry);
  return obj;
}
