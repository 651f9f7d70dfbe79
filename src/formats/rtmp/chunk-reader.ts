/**
 * Incremental RTMP chunk stream decoder (spec section 5.3): push any slice of the byte stream
 * (one byte or a megabyte), get back every message completed by it. Sans-IO: no sockets, no
 * timers. Set Chunk Size and Abort (section 5.4.1/5.4.2) take effect the moment they are read,
 * because they change how the very next chunk is framed; they are still returned to the caller.
 */
import { EstuaryError } from '../../errors.js';
import type { RtmpMessage } from './message.js';
import { DEFAULT_CHUNK_SIZE } from './message.js';
import { MessageType } from './message-types.js';

export interface ChunkReaderOptions {
  /** Largest message accepted; anything above throws before any of it is buffered. */
  maxMessageSize?: number;
  /** Distinct chunk stream ids one connection may use (FFmpeg/OBS use fewer than 10). */
  maxChunkStreams?: number;
  /**
   * Bytes all unfinished messages together may hold (every chunk stream may have one under
   * way); past it the reader throws. Without it, 64 chunk streams each holding most of a
   * 16 MiB message would pin a gigabyte per connection.
   */
  maxPartialBytes?: number;
  /** Said in the errors the two limits above cause, e.g. "before a publish starts". */
  limitContext?: string;
}

/** The limits that can change during a connection (ChunkReader.setLimits). */
export type ChunkReaderLimits = Pick<
  ChunkReaderOptions,
  'maxMessageSize' | 'maxPartialBytes' | 'limitContext'
>;

const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
const DEFAULT_MAX_CHUNK_STREAMS = 64;
/** Section 5.3.1.1: message header sizes for fmt 0, 1, 2, 3. */
const MESSAGE_HEADER_SIZE = [11, 7, 3, 0] as const;
/** Section 5.3.1.3: a 24-bit timestamp field of 0xFFFFFF means "see the extended timestamp". */
const EXTENDED = 0xffffff;
/** Section 5.4.1: chunk size is 31 bits, the top bit must be zero. */
const MAX_CHUNK_SIZE = 0x7fffffff;

/** What one chunk stream remembers between chunks (section 5.3.1.2: headers compress against it). */
interface ChunkStream {
  timestamp: number;
  /** Last timestamp field: the delta for fmt 1/2, the absolute value after fmt 0. */
  delta: number;
  length: number;
  type: number;
  streamId: number;
  /** The last fmt 0/1/2 header used an extended timestamp, whose value was `extValue`. */
  extended: boolean;
  extValue: number;
  /** Payload of the message being assembled, grown as bytes arrive; `received` bytes are valid. */
  body: Buffer | undefined;
  received: number;
  inMessage: boolean;
}

/**
 * First allocation for a message body. Bodies grow by doubling up to the declared length, so a
 * header claiming 16 MiB costs memory only as its bytes arrive (at most this much up front, per
 * chunk stream), and a body that fits is copied exactly once.
 */
const INITIAL_BODY_SIZE = 64 * 1024;
/** Default room for unfinished messages beside one of the largest size (audio, data between video chunks). */
const INTERLEAVE_ALLOWANCE = 1024 * 1024;

function chunkError(message: string): EstuaryError {
  return new EstuaryError('ERR_RTMP_CHUNK', message);
}

export class ChunkReader {
  private maxMessageSize: number;
  private maxPartialBytes: number;
  private limitContext: string;
  private readonly maxChunkStreams: number;
  /** Bytes allocated for unfinished message bodies, over every chunk stream. */
  private partial = 0;
  private readonly streams = new Map<number, ChunkStream>();
  private size = DEFAULT_CHUNK_SIZE;
  /** Bytes of an incomplete chunk header (at most 3 + 11 + 4 + 4). */
  private pending: Buffer = Buffer.alloc(0);
  /** Chunk stream whose chunk payload is being read, and how much of that chunk is left. */
  private current: { csid: number; cs: ChunkStream; left: number } | undefined;
  private received = 0;

  constructor(opts: ChunkReaderOptions = {}) {
    this.maxMessageSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.maxChunkStreams = opts.maxChunkStreams ?? DEFAULT_MAX_CHUNK_STREAMS;
    // One message of the largest size plus room for the others interleaved with it.
    this.maxPartialBytes = opts.maxPartialBytes ?? this.maxMessageSize + INTERLEAVE_ALLOWANCE;
    this.limitContext = opts.limitContext ?? '';
  }

  /**
   * Changes the size limits from the next chunk on (the server raises them once a publish has
   * started). Messages already under way keep what they hold.
   */
  setLimits(limits: ChunkReaderLimits): void {
    if (limits.maxMessageSize !== undefined) this.maxMessageSize = limits.maxMessageSize;
    if (limits.maxPartialBytes !== undefined) this.maxPartialBytes = limits.maxPartialBytes;
    if (limits.limitContext !== undefined) this.limitContext = limits.limitContext;
  }

  /** Bytes held now for unfinished messages, over every chunk stream. */
  get partialBytes(): number {
    return this.partial;
  }

  /** Every byte ever pushed: the count Acknowledgement messages report (section 5.4.3). */
  get bytesReceived(): number {
    return this.received;
  }

  /** The peer's current chunk size. */
  get chunkSize(): number {
    return this.size;
  }

  /**
   * Consumes `data` and returns the messages it completes, in order. Payloads are copies: no
   * reference to `data` is kept, so a partial message never pins a large socket read in memory.
   */
  push(data: Buffer): RtmpMessage[] {
    this.received += data.length;
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, data]) : data;
    this.pending = Buffer.alloc(0);
    const out: RtmpMessage[] = [];
    let off = 0;
    while (off < buf.length) {
      if (this.current === undefined) {
        const used = this.readHeader(buf, off, out);
        if (used === 0) {
          this.pending = Buffer.from(buf.subarray(off));
          break;
        }
        off += used;
        continue;
      }
      const cur = this.current;
      const take = Math.min(cur.left, buf.length - off);
      this.append(cur.csid, cur.cs, buf.subarray(off, off + take));
      cur.left -= take;
      off += take;
      if (cur.left === 0) {
        this.current = undefined;
        if (cur.cs.received === cur.cs.length) this.complete(cur.csid, cur.cs, out);
      }
    }
    return out;
  }

  /** Parses one chunk header at `off`; returns the bytes it took, or 0 if more are needed. */
  private readHeader(buf: Buffer, off: number, out: RtmpMessage[]): number {
    // Section 5.3.1.1: basic header, 1 to 3 bytes.
    const fmt = buf[off] >> 6;
    let csid = buf[off] & 0x3f;
    let p = off + 1;
    if (csid === 0) {
      if (buf.length < p + 1) return 0;
      csid = 64 + buf[p];
      p += 1;
    } else if (csid === 1) {
      if (buf.length < p + 2) return 0;
      csid = 64 + buf[p] + buf[p + 1] * 256;
      p += 2;
    }
    const hlen = MESSAGE_HEADER_SIZE[fmt];
    if (buf.length < p + hlen) return 0;
    const cs = this.streamFor(csid, fmt);
    const h = p; // section 5.3.1.2: timestamp (3) | length (3) | type (1) | stream id (4, LE)
    const field = fmt < 3 ? buf.readUIntBE(h, 3) : 0;
    p += hlen;
    let ext = 0;
    if (fmt < 3 && field === EXTENDED) {
      if (buf.length < p + 4) return 0;
      ext = buf.readUInt32BE(p);
      p += 4;
    } else if (fmt === 3 && cs.extended) {
      const repeated = this.extendedRepeated(buf, p, cs.extValue);
      if (repeated === undefined) return 0;
      if (repeated) p += 4;
    }
    if (fmt === 3 && cs.inMessage) {
      this.beginChunk(csid, cs);
      return p - off;
    }
    // A new message. A fmt 0/1/2 header in the middle of one drops the unfinished one.
    const tsValue = field === EXTENDED ? ext : field;
    if (fmt === 0 || fmt === 1) {
      const length = buf.readUIntBE(h + 3, 3);
      if (length > this.maxMessageSize) {
        throw chunkError(
          `message of ${length} bytes on chunk stream ${csid} exceeds ${this.maxMessageSize}${this.context()}`,
        );
      }
      cs.length = length;
      cs.type = buf[h + 6];
    }
    if (fmt === 0) {
      cs.streamId = buf.readUInt32LE(h + 7);
      cs.timestamp = tsValue;
    } else if (fmt === 1 || fmt === 2) {
      cs.timestamp = (cs.timestamp + tsValue) >>> 0;
    } else {
      cs.timestamp = (cs.timestamp + cs.delta) >>> 0;
    }
    if (fmt < 3) {
      cs.delta = tsValue;
      cs.extended = field === EXTENDED;
      cs.extValue = ext;
    }
    cs.inMessage = true;
    this.release(cs);
    if (cs.length === 0) this.complete(csid, cs, out);
    else this.beginChunk(csid, cs);
    return p - off;
  }

  private streamFor(csid: number, fmt: number): ChunkStream {
    const cs = this.streams.get(csid);
    if (cs) return cs;
    // Section 5.3.1.2: only a fmt 0 chunk carries everything needed to start a chunk stream.
    if (fmt !== 0)
      throw chunkError(`fmt ${fmt} chunk on chunk stream ${csid}, which never had a fmt 0 header`);
    if (this.streams.size >= this.maxChunkStreams) {
      throw chunkError(`more than ${this.maxChunkStreams} chunk streams on one connection`);
    }
    const created: ChunkStream = {
      timestamp: 0,
      delta: 0,
      length: 0,
      type: 0,
      streamId: 0,
      extended: false,
      extValue: 0,
      body: undefined,
      received: 0,
      inMessage: false,
    };
    this.streams.set(csid, created);
    return created;
  }

  /**
   * Whether a fmt 3 chunk repeats the extended timestamp (section 5.3.1.3 says it must; FFmpeg
   * and librtmp do, some encoders do not). Decided by comparing the next 4 bytes with the value
   * of the last extended timestamp; `undefined` means too few bytes yet to tell.
   */
  private extendedRepeated(buf: Buffer, p: number, value: number): boolean | undefined {
    const expect = [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
    const avail = Math.min(4, buf.length - p);
    for (let i = 0; i < avail; i++) if (buf[p + i] !== expect[i]) return false;
    return avail === 4 ? true : undefined;
  }

  private beginChunk(csid: number, cs: ChunkStream): void {
    this.current = { csid, cs, left: Math.min(this.size, cs.length - cs.received) };
  }

  /**
   * Adds a chunk's payload to its message. Bodies grow by doubling up to the declared length, so
   * memory follows the bytes that arrived; every growth is checked against maxPartialBytes.
   */
  private append(csid: number, cs: ChunkStream, piece: Buffer): void {
    const need = cs.received + piece.length;
    if (!cs.body || need > cs.body.length) {
      const old = cs.body?.length ?? 0;
      const size = Math.min(cs.length, Math.max(need, old ? old * 2 : INITIAL_BODY_SIZE));
      if (this.partial - old + size > this.maxPartialBytes) {
        const streams = [...this.streams.values()].filter((s) => s.body !== undefined).length;
        throw chunkError(
          `unfinished messages would hold ${this.partial - old + size} bytes (chunk stream ${csid} and ` +
            `${streams} more with a message under way), over the limit of ${this.maxPartialBytes}${this.context()}`,
        );
      }
      const body = Buffer.alloc(size);
      cs.body?.copy(body, 0, 0, cs.received);
      cs.body = body;
      this.partial += size - old;
    }
    piece.copy(cs.body, cs.received);
    cs.received = need;
  }

  /** Forgets a chunk stream's unfinished body (a new header, an Abort, a complete message). */
  private release(cs: ChunkStream): void {
    this.partial -= cs.body?.length ?? 0;
    cs.body = undefined;
    cs.received = 0;
  }

  private context(): string {
    return this.limitContext ? ` ${this.limitContext}` : '';
  }

  private complete(csid: number, cs: ChunkStream, out: RtmpMessage[]): void {
    // append() never grows past the message length, so a complete body is exactly the payload.
    const payload = cs.body ?? Buffer.alloc(0);
    this.release(cs);
    cs.inMessage = false;
    const msg: RtmpMessage = {
      type: cs.type,
      streamId: cs.streamId,
      timestamp: cs.timestamp,
      chunkStreamId: csid,
      payload,
    };
    if (msg.type === MessageType.SetChunkSize) this.applyChunkSize(payload);
    else if (msg.type === MessageType.Abort) this.applyAbort(payload);
    out.push(msg);
  }

  private applyChunkSize(payload: Buffer): void {
    if (payload.length < 4) throw chunkError(`Set Chunk Size payload of ${payload.length} bytes, expected 4`);
    const size = payload.readUInt32BE(0);
    if (size === 0 || size > MAX_CHUNK_SIZE) {
      throw chunkError(`Set Chunk Size ${size} is outside 1..${MAX_CHUNK_SIZE} (spec 5.4.1)`);
    }
    this.size = size;
  }

  private applyAbort(payload: Buffer): void {
    if (payload.length < 4) throw chunkError(`Abort payload of ${payload.length} bytes, expected 4`);
    const cs = this.streams.get(payload.readUInt32BE(0));
    if (cs?.inMessage) {
      this.release(cs);
      cs.inMessage = false;
    }
  }
}
