/**
 * The tags of an FLV file read for their sizes, times and flags only: each 11-byte tag header
 * and the first few body bytes (AVCPacketType and composition time, FrameType, AACPacketType,
 * the Enhanced RTMP FourCC), the payload skipped by reading next at the following tag. This is
 * the first pass of a fast-start MP4 conversion (convert/mp4-output.ts), which builds the moov's
 * sample tables and needs no media byte: a tag's payload is never parsed or copied, only skipped.
 *
 * The reads are synchronous preads of a window (a promise per read would cost tens of
 * microseconds each); the next read starts at the first tag header outside the window, so a body
 * larger than the window is skipped unread. A window of a few KiB (a read a video frame, ~45k
 * for a 30-minute 2.5 Mbit/s recording) reads less but costs more than one of MiBs: measured on
 * the bench recording, 4 KiB scanned it in 130-170 ms, 256 KiB to 4 MiB in 65-115 ms (the
 * syscalls cost more than copying the bytes from the page cache). The caller yields to the event
 * loop between batches.
 *
 * Tags that describe the stream (script data, sequence headers: see describesStream in
 * file-source.ts) and tags that fit in the window get their real body. A coded-frame tag larger
 * than that gets a body of the right length whose first PEEK_BYTES are the real ones and the
 * rest is unspecified (a shared placeholder), so the FLV parsers, which read only the header
 * bytes of a frame, give the same frames, times and flags with placeholder data. Bodies are lent
 * until the next call. Tag boundaries, errors and the bytes left at a truncated end are those
 * FlvTagReader finds.
 */
import { readSync } from 'node:fs';
import { isCodedFrameBody } from '../formats/flv/coded-frame-body.js';
import { FLV_HEADER_SIZE, PREVIOUS_TAG_SIZE_SIZE, parseFlvHeader } from '../formats/flv/header.js';
import { FLV_MAX_TAG_BODY, FLV_TAG_HEADER_SIZE, type FlvTag } from '../formats/flv/tag.js';
import { parseTagHeader } from '../formats/flv/tag-reader.js';

/** Default bytes read at a time: many tags (see above for why not just a header's worth). */
const WINDOW_BYTES = 1024 * 1024;
/** Real bytes at the start of a skipped body: more than any coded-frame header (8 bytes). */
const PEEK_BYTES = 16;

export class FlvSizeScan {
  private readonly window: Buffer;
  private winStart = 0;
  private winLength = 0;
  private placeholder = Buffer.allocUnsafe(0);
  private pos = 0;
  private started = false;
  private finished = false;
  /** Once done: bytes at the end that are not a whole unit (FlvTagReader's bytesBuffered). */
  trailingBytes = 0;
  /** File offset of the body of the tag next() returned last: a frame's bytes are a tail of it. */
  bodyOffset = 0;

  /** `windowBytes`: read size (at least a tag header and PEEK_BYTES). */
  constructor(
    private readonly fd: number,
    private readonly size: number,
    windowBytes = WINDOW_BYTES,
  ) {
    this.window = Buffer.allocUnsafe(Math.max(windowBytes, FLV_TAG_HEADER_SIZE + PEEK_BYTES));
  }

  get done(): boolean {
    return this.finished;
  }

  /** The next tag, or undefined at the end of the file. */
  next(): FlvTag | undefined {
    if (this.finished) return undefined;
    if (!this.started && !this.start()) return undefined;
    const left = this.size - this.pos;
    if (left < PREVIOUS_TAG_SIZE_SIZE + FLV_TAG_HEADER_SIZE) {
      // As FlvTagReader counts: PreviousTagSize and the tag header are units of their own.
      return this.end(left < PREVIOUS_TAG_SIZE_SIZE ? left : left - PREVIOUS_TAG_SIZE_SIZE);
    }
    const at = this.pos + PREVIOUS_TAG_SIZE_SIZE;
    const peek = Math.min(FLV_TAG_HEADER_SIZE + PEEK_BYTES, this.size - at);
    this.ensure(at, peek);
    // The file shrank while we read it: what was read is all there is.
    if (this.winStart + this.winLength < at + peek) return this.end(0);
    const h = parseTagHeader(this.window, at - this.winStart, FLV_MAX_TAG_BODY);
    const bodyAt = at + FLV_TAG_HEADER_SIZE;
    if (bodyAt + h.size > this.size) return this.end(this.size - bodyAt);
    this.pos = bodyAt + h.size;
    this.bodyOffset = bodyAt;
    return { type: h.type, timestamp: h.timestamp, body: this.body(h.type, bodyAt, h.size) };
  }

  private body(type: number, at: number, size: number): Buffer {
    const w = at - this.winStart;
    if (at + size <= this.winStart + this.winLength) return this.window.subarray(w, w + size);
    // The header read brought the first bytes (ensure() above read at least PEEK_BYTES of body).
    if (size >= 2 && isCodedFrameBody(type, this.window[w], this.window[w + 1])) {
      if (this.placeholder.length < size)
        this.placeholder = Buffer.allocUnsafe(Math.max(size, 2 * this.placeholder.length));
      this.window.copy(this.placeholder, 0, w, w + PEEK_BYTES);
      return this.placeholder.subarray(0, size);
    }
    if (size <= this.window.length) {
      this.ensure(at, size);
      return this.window.subarray(0, size);
    }
    const whole = Buffer.allocUnsafe(size);
    this.readFully(whole, size, at);
    return whole;
  }

  /** Reads the FLV header; false when the file ends inside it or its DataOffset. */
  private start(): boolean {
    this.started = true;
    if (this.size < FLV_HEADER_SIZE) {
      this.end(this.size);
      return false;
    }
    this.ensure(0, FLV_HEADER_SIZE);
    const header = parseFlvHeader(this.window.subarray(0, FLV_HEADER_SIZE));
    if (header.dataOffset >= this.size) {
      this.end(0);
      return false;
    }
    this.pos = header.dataOffset;
    return true;
  }

  private end(trailing: number): undefined {
    this.finished = true;
    this.trailingBytes = trailing;
    return undefined;
  }

  /** Makes the window hold [at, at + n) (n fits the window): a read at `at` unless it does. */
  private ensure(at: number, n: number): void {
    if (at >= this.winStart && at + n <= this.winStart + this.winLength) return;
    const want = Math.min(this.window.length, this.size - at);
    this.winStart = at;
    this.winLength = this.readFully(this.window, want, at);
  }

  private readFully(buf: Buffer, n: number, at: number): number {
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, buf, got, n - got, at + got);
      if (r === 0) break; // the file shrank while we read it
      got += r;
    }
    return got;
  }
}
