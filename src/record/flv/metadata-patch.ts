import { EstuaryError } from '../../errors.js';

/**
 * Where onMetaData's `duration` and `filesize` numbers sit in the file, so they can be patched
 * once the recording ends. In an AMF0 ECMA array a property is a u16 name length, the name, then
 * the value; a number is marker 0x00 then an 8-byte IEEE-754 double (AMF0 spec 2.2, 2.10).
 */
export class MetadataPatch {
  private constructor(
    readonly durationOffset: number,
    readonly filesizeOffset: number,
  ) {}

  /** Finds both numbers in `body`; `bodyOffset` is where the body starts in the file. */
  static locate(body: Buffer, bodyOffset: number): MetadataPatch {
    return new MetadataPatch(
      bodyOffset + MetadataPatch.valueOffset(body, 'duration'),
      bodyOffset + MetadataPatch.valueOffset(body, 'filesize'),
    );
  }

  /** The 8 bytes of an AMF0 number. */
  static number(value: number): Buffer {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(value);
    return b;
  }

  private static valueOffset(body: Buffer, name: string): number {
    const key = Buffer.alloc(2 + name.length + 1);
    key.writeUInt16BE(name.length, 0);
    key.write(name, 2, 'latin1');
    key[2 + name.length] = 0x00; // number marker
    // The last occurrence: a publisher's own keys come first in the object, ours are set last.
    const at = body.lastIndexOf(key);
    if (at < 0) throw new EstuaryError('ERR_FLV_FORMAT', `onMetaData has no numeric ${name} to patch`);
    return at + key.length;
  }
}
