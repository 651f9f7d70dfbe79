import { EstuaryError } from '../../errors.js';
import { FLV_HEADER_SIZE, PREVIOUS_TAG_SIZE_SIZE, parseFlvHeader } from './header.js';
import { FLV_MAX_TAG_BODY, FLV_TAG_HEADER_SIZE, type FlvTag, FlvTagType } from './tag.js';

/** TagType byte bit 5: Filter, set when the tag is encrypted (E.4.1); we do not decrypt. */
const FILTER_BIT = 0x20;

export interface FlvTagReaderOptions {
  /** Largest tag body accepted; default (and maximum) 16 MiB - 1, the UI24 DataSize limit. */
  maxTagSize?: number;
  /**
   * When true (default) the stream starts with the FLV header and PreviousTagSize0. When false it
   * starts directly at a tag header (e.g. a stream resumed after its header was read elsewhere).
   */
  expectHeader?: boolean;
}

type State =
  | { at: 'header' }
  | { at: 'skip'; left: number }
  | { at: 'prev-size' }
  | { at: 'tag-header' }
  | { at: 'body'; type: number; size: number; timestamp: number };

/**
 * Incremental FLV reader: push bytes as they arrive (any split) and get whole tags back.
 * Bytes are queued as the chunks given (no copies) until a unit is complete, so memory grows only
 * with the data that actually arrived, never with a length field an attacker wrote.
 */
export class FlvTagReader {
  private readonly maxTagSize: number;
  private state: State;
  private chunks: Buffer[] = [];
  /** Index of the first unread chunk in `chunks` (avoids Array#shift on long queues). */
  private head = 0;
  private buffered = 0;
  private consumed = 0;

  constructor(opts: FlvTagReaderOptions = {}) {
    this.maxTagSize = Math.min(opts.maxTagSize ?? FLV_MAX_TAG_BODY, FLV_MAX_TAG_BODY);
    this.state = opts.expectHeader === false ? { at: 'tag-header' } : { at: 'header' };
  }

  /** Bytes turned into headers and tags so far (bytes buffered for an incomplete unit excluded). */
  get bytesConsumed(): number {
    return this.consumed;
  }

  /** Bytes held waiting for the rest of a unit. */
  get bytesBuffered(): number {
    return this.buffered;
  }

  /**
   * Takes the bytes; returns the whole tags they complete. With `into`, the tags are appended to
   * it as they are read, so when a malformed tag throws, those before it are still there.
   */
  push(chunk: Buffer, into?: FlvTag[]): FlvTag[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const tags: FlvTag[] = into ?? [];
    for (;;) {
      const tag = this.step();
      if (tag === null) break;
      if (tag !== undefined) tags.push(tag);
    }
    return tags;
  }

  /** Advances one unit: returns a tag, undefined (progress without a tag) or null (need more bytes). */
  private step(): FlvTag | undefined | null {
    const s = this.state;
    switch (s.at) {
      case 'header': {
        const b = this.take(FLV_HEADER_SIZE);
        if (!b) return null;
        const header = parseFlvHeader(b);
        this.state = { at: 'skip', left: header.dataOffset - FLV_HEADER_SIZE };
        return undefined;
      }
      case 'skip': {
        // Bytes between the header and DataOffset (none in version 1), dropped as they arrive.
        if (s.left === 0) {
          this.state = { at: 'prev-size' };
          return undefined;
        }
        if (this.buffered === 0) return null;
        const n = Math.min(s.left, this.buffered, this.chunks[this.head].length);
        this.take(n);
        this.state = { at: 'skip', left: s.left - n };
        return undefined;
      }
      case 'prev-size': {
        // PreviousTagSize is not checked: writers disagree on it, and tag boundaries come from DataSize.
        if (!this.take(PREVIOUS_TAG_SIZE_SIZE)) return null;
        this.state = { at: 'tag-header' };
        return undefined;
      }
      case 'tag-header': {
        const h = this.take(FLV_TAG_HEADER_SIZE);
        if (!h) return null;
        const t = parseTagHeader(h, 0, this.maxTagSize);
        this.state = { at: 'body', type: t.type, size: t.size, timestamp: t.timestamp };
        return undefined;
      }
      case 'body': {
        const body = this.take(s.size);
        if (!body) return null;
        this.state = { at: 'prev-size' };
        return { type: s.type, timestamp: s.timestamp, body };
      }
    }
  }

  /**
   * Removes n bytes from the queue once all have arrived: a subarray when they lie in one chunk,
   * else a fresh copy (n is bounded by maxTagSize and the bytes are already here).
   */
  private take(n: number): Buffer | undefined {
    if (this.buffered < n) return undefined;
    this.buffered -= n;
    this.consumed += n;
    const first = this.chunks[this.head];
    if (n === 0) return Buffer.alloc(0);
    if (first.length >= n) {
      if (first.length === n) this.dropHead();
      else this.chunks[this.head] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[this.head];
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.length) this.dropHead();
      else this.chunks[this.head] = c.subarray(k);
    }
    return out;
  }

  private dropHead(): void {
    this.head += 1;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * The 11-byte tag header at `at` (E.4.1): type, DataSize, Timestamp with its extended upper byte.
 * Throws ERR_FLV_FORMAT for an unknown or encrypted type or a DataSize over `maxTagSize`.
 */
export function parseTagHeader(
  h: Buffer,
  at: number,
  maxTagSize: number,
): { type: number; size: number; timestamp: number } {
  const type = h[at];
  checkTagType(type);
  const size = h.readUIntBE(at + 1, 3);
  if (size > maxTagSize) {
    throw new EstuaryError('ERR_FLV_FORMAT', `FLV tag of ${size} bytes exceeds the limit of ${maxTagSize}`);
  }
  const timestamp = (h.readUIntBE(at + 4, 3) | (h[at + 7] << 24)) >>> 0;
  return { type, size, timestamp };
}

function checkTagType(type: number): void {
  const known = (t: number) => t === FlvTagType.Audio || t === FlvTagType.Video || t === FlvTagType.Script;
  if (known(type)) return;
  if ((type & FILTER_BIT) !== 0 && known(type & ~FILTER_BIT)) {
    throw new EstuaryError(
      'ERR_FLV_FORMAT',
      `FLV tag type ${type} has the Filter bit set: encrypted tags are not supported`,
    );
  }
  throw new EstuaryError(
    'ERR_FLV_FORMAT',
    `FLV tag type ${type} is not audio (8), video (9) or script data (18)`,
  );
}
