import { EstuaryError } from '../../errors.js';
import { ChunkReader, type ChunkReaderLimits, type ChunkReaderOptions } from './chunk-reader.js';
import { encodeMessage } from './chunk-writer.js';
import { acknowledgement, parseControl, pingResponse } from './control.js';
import { RtmpClientHandshake, RtmpServerHandshake } from './handshake.js';
import { DEFAULT_CHUNK_SIZE, type RtmpMessage } from './message.js';
import { MessageType, UserControlEvent } from './message-types.js';

export interface ConnectionStep {
  /** Bytes to write to the peer now (handshake packets, acknowledgements, ping responses). */
  send: Buffer[];
  /** Whole messages read, in order, control messages included (already acted on here). */
  messages: RtmpMessage[];
  /** True on the step that completed the handshake. */
  handshakeCompleted: boolean;
}

/**
 * The protocol bookkeeping every RTMP endpoint does, as a sans-IO machine shared by the server
 * session and the client: the handshake, chunk reassembly, Acknowledgement each time the peer's
 * window of bytes has been received (spec 5.4.3) and the PingResponse a PingRequest asks for
 * (7.1.7). Bytes in, bytes and messages out; the caller only moves them.
 */
export class RtmpConnection {
  private handshake: RtmpServerHandshake | RtmpClientHandshake | undefined;
  private readonly reader: ChunkReader;
  private peerWindow = 0;
  private lastAcked = 0;

  constructor(
    readonly role: 'server' | 'client',
    opts?: ChunkReaderOptions,
  ) {
    this.handshake = role === 'server' ? new RtmpServerHandshake() : new RtmpClientHandshake();
    this.reader = new ChunkReader(opts);
  }

  /** The client's first bytes (C0 + C1). */
  start(): Buffer {
    if (!(this.handshake instanceof RtmpClientHandshake))
      throw new EstuaryError('ERR_RTMP_HANDSHAKE', 'only a client connection starts the handshake');
    return this.handshake.start();
  }

  get handshaking(): boolean {
    return this.handshake !== undefined;
  }

  get bytesReceived(): number {
    return this.reader.bytesReceived;
  }

  /** Changes the chunk reader's size limits (see ChunkReader.setLimits). */
  setLimits(limits: ChunkReaderLimits): void {
    this.reader.setLimits(limits);
  }

  /** Consumes bytes from the peer. Throws EstuaryError on a bad handshake or chunk stream. */
  feed(chunk: Buffer): ConnectionStep {
    const step: ConnectionStep = { send: [], messages: [], handshakeCompleted: false };
    let data: Buffer | undefined = chunk;
    if (this.handshake) {
      const hs = this.handshake.feed(chunk);
      if (hs.send) step.send.push(hs.send);
      if (!hs.done) return step;
      this.handshake = undefined;
      step.handshakeCompleted = true;
      data = hs.remaining;
    }
    if (!data || data.length === 0) return step;
    for (const msg of this.reader.push(data)) {
      step.messages.push(msg);
      this.observe(msg, step);
    }
    const received = this.reader.bytesReceived;
    if (this.peerWindow > 0 && received - this.lastAcked >= this.peerWindow) {
      this.lastAcked = received;
      step.send.push(this.encode(acknowledgement(received >>> 0)));
    }
    return step;
  }

  private observe(msg: RtmpMessage, step: ConnectionStep): void {
    if (msg.type === MessageType.WindowAckSize) {
      const c = parseControl(msg);
      if (c.kind === 'windowAckSize') this.peerWindow = c.size;
    } else if (msg.type === MessageType.UserControl) {
      const c = parseControl(msg);
      if (c.kind === 'userControl' && c.event === UserControlEvent.PingRequest) {
        step.send.push(this.encode(pingResponse(c.value)));
      }
    }
  }

  /** Control messages fit one chunk at any chunk size, so the bytes do not depend on ours. */
  private encode(msg: RtmpMessage): Buffer {
    return encodeMessage(msg, DEFAULT_CHUNK_SIZE);
  }
}
