/**
 * Hostile AMF0 built byte by byte (AMF0 spec 2.4 string, 2.5 object, 2.9 reference, 2.10 ECMA
 * array): the committed source of the reference-bomb inputs in test/fixtures/fuzz/.
 */

function str(s: string): Buffer {
  const b = Buffer.alloc(3 + s.length);
  b[0] = 0x02;
  b.writeUInt16BE(s.length, 1);
  b.write(s, 3, 'latin1');
  return b;
}

function key(s: string): Buffer {
  return str(s).subarray(1);
}

function ref(index: number): Buffer {
  const b = Buffer.alloc(3);
  b[0] = 0x07;
  b.writeUInt16BE(index, 1);
  return b;
}

const OBJECT_END = Buffer.from([0x00, 0x00, 0x09]);

/**
 * "onMetaData" and an ECMA array of `levels` objects, each but the first holding two references
 * to the one before it: a few hundred bytes whose tree, references expanded, has 2^levels values.
 * (The ECMA array is reference 0, object i is reference i + 1.)
 */
export function metadataReferenceBomb(levels = 30): Buffer {
  const number1 = Buffer.from([0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
  const parts: Buffer[] = [str('onMetaData'), Buffer.from([0x08, 0, 0, 0, levels])];
  parts.push(key('o0'), Buffer.from([0x03]), key('x'), number1, OBJECT_END);
  for (let i = 1; i < levels; i++) {
    parts.push(key(`o${i}`), Buffer.from([0x03]), key('a'), ref(i), key('b'), ref(i), OBJECT_END);
  }
  parts.push(OBJECT_END);
  return Buffer.concat(parts);
}

/** The same as an RTMP publisher sends it: @setDataFrame("onMetaData", {...}). */
export function setDataFrameReferenceBomb(levels = 30): Buffer {
  return Buffer.concat([str('@setDataFrame'), metadataReferenceBomb(levels)]);
}

/** onMetaData whose ECMA array holds a reference to itself (a cycle). */
export function metadataSelfReference(): Buffer {
  return Buffer.concat([str('onMetaData'), Buffer.from([0x08, 0, 0, 0, 1]), key('me'), ref(0), OBJECT_END]);
}
