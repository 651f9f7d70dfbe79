import { connect, type Socket } from 'node:net';
import { encodeMessage } from '../../src/formats/rtmp/chunk-writer.js';
import { encodeCommand } from '../../src/formats/rtmp/command.js';
import { acknowledgement, windowAckSize } from '../../src/formats/rtmp/control.js';
import { RtmpClientHandshake } from '../../src/formats/rtmp/handshake.js';
import { parseRtmpUrl } from '../../src/rtmp/client.js';
import type { ViewStats } from './view-stats.js';
import { BenchViewer, type ViewerOptions } from './viewer.js';

/** FLV file header + PreviousTagSize0 (E.2, E.3): audio and video flags set. */
const FLV_PREAMBLE = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x05, 0, 0, 0, 9, 0, 0, 0, 0]);
/** Section 5.4.1: every connection starts with 128-byte chunks. */
const DEFAULT_CHUNK = 128;
/** Message header sizes by fmt (5.3.1.2): 11, 7, 3, 0 bytes. */
const HEADER_SIZE = [11, 7, 3, 0];
const EXTENDED = 0xffffff;
/** Message types (section 5.4, 7.1): Set Chunk Size, Window Acknowledgement Size, audio, video, data. */
const SET_CHUNK_SIZE = 1;
const WINDOW_ACK = 5;
const MEDIA = new Set([8, 9, 18]);
/** Stream id both nginx-rtmp and Estuary give the first createStream. */
const STREAM_ID = 1;

interface ChunkStream {
  length: number;
  type: number;
  timestamp: number;
  /** Payload bytes of the current message still to come; 0 between messages. */
  left: number;
  extended: boolean;
  /** The last timestamp delta (fmt 1/2), which a fmt 3 chunk starting a message repeats (5.3.1.2.4). */
  delta: number;
}

enum At {
  Handshake = 0,
  Basic = 1,
  BasicMore = 2,
  Header = 3,
  Payload = 4,
}

/**
 * A light RTMP player for the load generator: the handshake and the commands come from the pure
 * src/formats/rtmp encoders (connect, createStream and play sent at once, as players do), and the
 * chunk stream is parsed without reassembling messages: media payload pieces go straight to the
 * FLV check, framed as tags. src/rtmp/client.ts copies every message whole, which at 4 Gbit/s
 * made the load generator, not the server, the limit.
 */
export class RtmpLiteViewer extends BenchViewer {
  private readonly socket: Socket;
  private readonly url: ReturnType<typeof parseRtmpUrl>;
  private readonly handshake = new RtmpClientHandshake();
  private at = At.Handshake;
  private chunkSize = DEFAULT_CHUNK;
  private readonly streams = new Map<number, ChunkStream>();
  private readonly fixed = Buffer.alloc(16);
  private need = 0;
  private have = 0;
  private fmt = 0;
  private csid = 0;
  private cur: ChunkStream | undefined;
  /** Bytes left in the current chunk's payload. */
  private chunkLeft = 0;
  private readonly control = Buffer.alloc(4);
  private controlHave = 0;
  private received = 0;
  private acked = 0;
  private window = 0;
  private readonly tagHeader = Buffer.alloc(11);
  private readonly prevSize = Buffer.alloc(4);

  constructor(url: URL, opts: ViewerOptions, stats: ViewStats, onFinished: (v: BenchViewer) => void) {
    super(opts, stats, onFinished);
    this.check.push(FLV_PREAMBLE);
    const u = parseRtmpUrl(url.href);
    this.url = u;
    this.socket = connect({ host: u.host, port: u.port, localAddress: opts.localAddress });
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => {
      this.connectedAt = performance.now();
      this.socket.write(this.handshake.start());
    });
    this.socket.on('data', (buf: Buffer) => this.onData(buf));
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.end(`socket ${err.code ?? err.message}`));
    this.socket.on('close', () => this.end('closed by the server'));
  }

  protected disconnect(): void {
    this.socket.destroy();
  }

  private sendCommands(): void {
    const u = this.url;
    const msgs = [
      encodeCommand(
        {
          name: 'connect',
          transactionId: 1,
          commandObject: { app: u.app, type: 'nonprivate', flashVer: 'LNX 9,0,124,2', tcUrl: u.tcUrl },
          args: [],
        },
        0,
      ),
      windowAckSize(5_000_000),
      encodeCommand({ name: 'createStream', transactionId: 2, commandObject: null, args: [] }, 0),
      encodeCommand({ name: 'play', transactionId: 0, commandObject: null, args: [u.stream, -2] }, STREAM_ID),
    ];
    this.socket.write(Buffer.concat(msgs.map((m) => encodeMessage(m, DEFAULT_CHUNK))));
  }

  private onData(buf: Buffer): void {
    if (this.finished) return;
    let i = 0;
    if (this.at === At.Handshake) {
      const step = this.handshake.feed(buf);
      if (step.send) this.socket.write(step.send);
      if (!step.done) return;
      this.sendCommands();
      this.at = At.Basic;
      buf = step.remaining ?? Buffer.alloc(0);
    }
    this.received += buf.length;
    if (this.window > 0 && this.received - this.acked >= this.window) {
      this.acked = this.received;
      this.socket.write(encodeMessage(acknowledgement(this.received >>> 0), DEFAULT_CHUNK));
    }
    while (i < buf.length && !this.finished) i = this.step(buf, i);
  }

  private collect(buf: Buffer, i: number): number {
    const k = Math.min(this.need - this.have, buf.length - i);
    buf.copy(this.fixed, this.have, i, i + k);
    this.have += k;
    return i + k;
  }

  /** Consumes from buf[i…]; returns the new position. */
  private step(buf: Buffer, i: number): number {
    switch (this.at) {
      case At.Basic: {
        const b = buf[i]!;
        this.fmt = b >> 6;
        const id = b & 0x3f;
        if (id > 1) {
          this.csid = id;
          this.startHeader();
        } else {
          // Section 5.3.1.1: 0 → one more byte, 1 → two more (csid − 64, little-endian).
          this.need = id === 0 ? 1 : 2;
          this.have = 0;
          this.at = At.BasicMore;
        }
        return i + 1;
      }
      case At.BasicMore: {
        const j = this.collect(buf, i);
        if (this.have === this.need) {
          this.csid = 64 + (this.need === 1 ? this.fixed[0]! : this.fixed.readUInt16LE(0));
          this.startHeader();
        }
        return j;
      }
      case At.Header: {
        const j = this.collect(buf, i);
        if (this.have === this.need) this.onHeader();
        return j;
      }
      default: {
        const n = Math.min(this.chunkLeft, buf.length - i);
        this.onPayload(buf, i, i + n);
        this.chunkLeft -= n;
        this.cur!.left -= n;
        if (this.chunkLeft === 0) this.onChunkEnd();
        return i + n;
      }
    }
  }

  private startHeader(): void {
    let cs = this.streams.get(this.csid);
    if (!cs) {
      cs = { length: 0, type: 0, timestamp: 0, left: 0, extended: false, delta: 0 };
      this.streams.set(this.csid, cs);
    }
    this.cur = cs;
    // A fmt 3 chunk repeats the extended timestamp when its message header carried one (5.3.1.3).
    this.need = HEADER_SIZE[this.fmt]! + (this.fmt === 3 && cs.extended ? 4 : 0);
    this.have = 0;
    this.at = At.Header;
    if (this.need === 0) this.onHeader();
  }

  private onHeader(): void {
    const cs = this.cur!;
    const f = this.fixed;
    if (this.fmt < 3) {
      let ts = f.readUIntBE(0, 3);
      if (this.fmt < 2) {
        cs.length = f.readUIntBE(3, 3);
        cs.type = f[6]!;
      }
      cs.extended = ts === EXTENDED;
      if (cs.extended) {
        // The 4-byte extended timestamp follows the message header: read it as a second step.
        if (this.need === HEADER_SIZE[this.fmt]) {
          this.need += 4;
          return;
        }
        ts = f.readUInt32BE(HEADER_SIZE[this.fmt]!);
      }
      cs.delta = this.fmt === 0 ? 0 : ts;
      cs.timestamp = this.fmt === 0 ? ts : cs.timestamp + ts;
    } else if (cs.left === 0) {
      cs.timestamp += cs.delta;
    }
    if (cs.left === 0) this.onMessageStart(cs);
    this.chunkLeft = Math.min(this.chunkSize, cs.left);
    this.at = At.Payload;
    if (this.chunkLeft === 0) this.onChunkEnd();
  }

  private onMessageStart(cs: ChunkStream): void {
    cs.left = cs.length;
    this.controlHave = 0;
    if (MEDIA.has(cs.type)) {
      const h = this.tagHeader;
      h[0] = cs.type;
      h.writeUIntBE(cs.length, 1, 3);
      h.writeUIntBE(cs.timestamp & 0xffffff, 4, 3);
      h[7] = (cs.timestamp >>> 24) & 0xff;
      this.onMedia(h, 0, 11);
    }
  }

  private onPayload(buf: Buffer, from: number, to: number): void {
    const cs = this.cur!;
    if (MEDIA.has(cs.type)) {
      this.onMedia(buf, from, to);
    } else if (cs.type === SET_CHUNK_SIZE || cs.type === WINDOW_ACK) {
      const k = Math.min(4 - this.controlHave, to - from);
      buf.copy(this.control, this.controlHave, from, from + k);
      this.controlHave += k;
    }
  }

  private onChunkEnd(): void {
    const cs = this.cur!;
    this.at = At.Basic;
    if (cs.left > 0) return;
    if (MEDIA.has(cs.type)) {
      this.prevSize.writeUInt32BE(11 + cs.length, 0);
      this.onMedia(this.prevSize, 0, 4);
    } else if (this.controlHave === 4) {
      const v = this.control.readUInt32BE(0) & 0x7fffffff;
      if (cs.type === SET_CHUNK_SIZE && v > 0) this.chunkSize = v;
      if (cs.type === WINDOW_ACK) this.window = v;
    }
  }
}
