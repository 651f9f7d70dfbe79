import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { describeError, EstuaryError } from '../errors.js';
import { encodeAmf0 } from '../formats/amf/amf0.js';
import type { AmfObject, AmfValue } from '../formats/amf/value.js';
import { encodeMessage } from '../formats/rtmp/chunk-writer.js';
import { decodeCommand, encodeCommand, onStatus, type RtmpCommand } from '../formats/rtmp/command.js';
import { RtmpConnection } from '../formats/rtmp/connection.js';
import {
  setChunkSize,
  setPeerBandwidth,
  streamBegin,
  streamEof,
  streamIsRecorded,
  windowAckSize,
} from '../formats/rtmp/control.js';
import { ChunkStreamId, type RtmpMessage } from '../formats/rtmp/message.js';
import { MessageType, PeerBandwidthLimit } from '../formats/rtmp/message-types.js';
import type { FanOut } from '../hub/fan-out.js';
import type { PublisherInfo } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import { makeStreamName, type StreamName } from '../hub/stream-name.js';
import type { Viewer, ViewerBudget } from '../hub/viewer.js';
import { OUT_CHUNK_SIZE, rtmpFanOut } from './from-stream.js';
import { RtmpPublishToStream } from './to-stream.js';

export interface RtmpSessionContext {
  readonly hub: StreamHub;
  readonly log: Logger;
  readonly budget: ViewerBudget;
  readonly maxMessageBytes: number;
  /**
   * A publisher that sends nothing for this long is dropped so its stream name is freed; so is a
   * connection that neither publishes nor plays (default 30 s).
   */
  readonly idleTimeoutMs?: number;
}

/** Window acknowledgement size and peer bandwidth we announce (nginx-rtmp and FFmpeg use 2.5–5 MB). */
const WINDOW_ACK_SIZE = 5_000_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

type NetStreamState =
  | { kind: 'idle' }
  | { kind: 'publish'; name: StreamName; publisher: PublisherInfo; toStream: RtmpPublishToStream }
  | { kind: 'play'; name: StreamName; fanOut: FanOut; viewer: Viewer; paused: boolean };

/**
 * One RTMP connection: moves bytes between the socket and the sans-IO handshake / chunk
 * machines, answers NetConnection and NetStream commands, and connects NetStreams to the hub as
 * publishers or players. It ends in exactly one place, `close`, which logs why once.
 */
export class RtmpSession {
  private readonly log: Logger;
  private readonly conn: RtmpConnection;
  private app: string | undefined;
  private readonly streams = new Map<number, NetStreamState>();
  private nextStreamId = 1;
  private closed = false;
  private readonly handshakeTimer: NodeJS.Timeout;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: RtmpSessionContext,
    conn: number,
  ) {
    this.log = ctx.log.child({ proto: 'rtmp', conn, remote: `${socket.remoteAddress}:${socket.remotePort}` });
    this.conn = new RtmpConnection('server', { maxMessageSize: ctx.maxMessageBytes });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('connection closed by peer'));
    socket.on('timeout', () => this.close(this.idleReason()));
    this.handshakeTimer = setTimeout(() => {
      if (this.conn.handshaking) this.close(`no RTMP handshake within ${HANDSHAKE_TIMEOUT_MS} ms`);
    }, HANDSHAKE_TIMEOUT_MS);
  }

  /** The one place a session ends. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.handshakeTimer);
    for (const id of [...this.streams.keys()]) this.endNetStream(id, reason);
    this.log.info({ reason, app: this.app, bytesIn: this.conn.bytesReceived }, 'closed');
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      const step = this.conn.feed(chunk);
      for (const buf of step.send) this.socket.write(buf);
      if (step.handshakeCompleted) {
        clearTimeout(this.handshakeTimer);
        this.updateIdleTimeout();
      }
      for (const msg of step.messages) {
        this.onMessage(msg);
        if (this.closed) return;
      }
    } catch (err) {
      this.close(describeError(err));
    }
  }

  private onMessage(msg: RtmpMessage): void {
    switch (msg.type) {
      case MessageType.SetChunkSize:
      case MessageType.Abort:
      case MessageType.Acknowledgement:
      case MessageType.WindowAckSize:
      case MessageType.SetPeerBandwidth:
      case MessageType.UserControl:
        return; // RtmpConnection applied chunk size / abort and answers acks and pings
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
        this.onCommand(decodeCommand(msg), msg.streamId);
        return;
      case MessageType.Audio:
      case MessageType.Video:
      case MessageType.DataAmf0:
      case MessageType.DataAmf3:
      case MessageType.Aggregate: {
        const ns = this.streams.get(msg.streamId);
        if (ns?.kind === 'publish') ns.toStream.push(msg);
        return;
      }
      case MessageType.SharedObjectAmf0:
      case MessageType.SharedObjectAmf3:
        return; // shared objects: no encoder or player we serve needs them
      default:
        throw new EstuaryError(
          'ERR_RTMP_CHUNK',
          `unknown RTMP message type ${msg.type} (known: 1-6, 8, 9, 15-20, 22; RTMP spec 5.4, 7.1)`,
        );
    }
  }

  private onCommand(cmd: RtmpCommand, streamId: number): void {
    this.log.debug({ cmd: cmd.name, tx: cmd.transactionId, streamId }, 'command');
    switch (cmd.name) {
      case 'connect':
        return this.onConnect(cmd);
      case 'createStream': {
        const id = this.nextStreamId++;
        this.streams.set(id, { kind: 'idle' });
        return this.reply(cmd, null, id);
      }
      case 'releaseStream':
      case 'FCPublish':
      case 'getStreamLength':
        if (cmd.name === 'getStreamLength') return this.reply(cmd, null, 0);
        return this.reply(cmd, null, undefined);
      case 'publish':
        return this.onPublish(cmd, streamId);
      case 'play':
        return this.onPlay(cmd, streamId);
      case 'pause':
        return this.onPause(cmd, streamId);
      case 'FCUnpublish':
        return this.endPublishNamed(cmd.args[0]);
      case 'closeStream':
        return this.endNetStream(streamId, 'closeStream');
      case 'deleteStream': {
        const id = typeof cmd.args[0] === 'number' ? cmd.args[0] : streamId;
        this.endNetStream(id, 'deleteStream');
        this.streams.delete(id);
        return;
      }
      default:
        // receiveAudio, receiveVideo, _checkbw, …: nothing to do, and clients do not wait for them.
        return;
    }
  }

  private onConnect(cmd: RtmpCommand): void {
    if (this.app !== undefined) throw new EstuaryError('ERR_RTMP_COMMAND', 'connect sent twice');
    const obj = (cmd.commandObject ?? {}) as AmfObject;
    const rawApp = typeof obj.app === 'string' ? obj.app : '';
    // OBS and FFmpeg may put a query (credentials) or a trailing slash after the app name.
    this.app = rawApp.split('?', 1)[0]!.replace(/\/+$/, '');
    this.log.info({ app: this.app, flashVer: obj.flashVer, tcUrl: obj.tcUrl }, 'connect');
    this.send(windowAckSize(WINDOW_ACK_SIZE));
    this.send(setPeerBandwidth(WINDOW_ACK_SIZE, PeerBandwidthLimit.Dynamic));
    this.send(setChunkSize(OUT_CHUNK_SIZE));
    this.reply(
      cmd,
      { fmsVer: 'FMS/3,0,1,123', capabilities: 31 },
      {
        level: 'status',
        code: 'NetConnection.Connect.Success',
        description: 'Connection succeeded.',
        objectEncoding: typeof obj.objectEncoding === 'number' ? obj.objectEncoding : 0,
      },
    );
  }

  /**
   * The stream name a publish/play asks for, and the query after it (credentials: OBS puts
   * `?sign=…` in the stream key). Also refuses a command on a message stream that is busy.
   */
  private request(cmd: RtmpCommand, streamId: number): { name: StreamName; query: string } {
    if (this.streams.get(streamId)?.kind !== 'idle') {
      throw new EstuaryError(
        'ERR_RTMP_COMMAND',
        `${cmd.name} on message stream ${streamId}, which is not an idle stream`,
      );
    }
    if (this.app === undefined) throw new EstuaryError('ERR_RTMP_COMMAND', `${cmd.name} before connect`);
    const { stream, query } = splitStreamKey(cmd.args[0]);
    return { name: makeStreamName(this.app, stream), query };
  }

  private onPublish(cmd: RtmpCommand, streamId: number): void {
    let req: { name: StreamName; query: string };
    try {
      req = this.request(cmd, streamId);
    } catch (err) {
      return this.refuse(streamId, 'NetStream.Publish.BadName', err);
    }
    const { name, query } = req;
    const publisher: PublisherInfo = {
      protocol: 'rtmp',
      remote: `${this.socket.remoteAddress}:${this.socket.remotePort}`,
      kick: (reason) => this.close(reason),
    };
    let stream: ReturnType<StreamHub['publish']>;
    try {
      stream = this.ctx.hub.publish(name, publisher, query);
    } catch (err) {
      return this.refuse(streamId, 'NetStream.Publish.BadName', err);
    }
    this.streams.set(streamId, {
      kind: 'publish',
      name,
      publisher,
      toStream: new RtmpPublishToStream(stream, this.ctx.maxMessageBytes),
    });
    this.updateIdleTimeout();
    this.send(streamBegin(streamId));
    this.send(onStatus(streamId, 'status', 'NetStream.Publish.Start', `${name.path} is now published.`));
  }

  private onPlay(cmd: RtmpCommand, streamId: number): void {
    let name: StreamName;
    try {
      name = this.request(cmd, streamId).name;
    } catch (err) {
      return this.refuse(streamId, 'NetStream.Play.StreamNotFound', err);
    }
    // start / duration / reset (args 1–3) select a position in a recorded stream; a live
    // stream has one position, now, so they are accepted and ignored (as nginx-rtmp does).
    this.send(streamIsRecorded(streamId));
    this.send(streamBegin(streamId));
    this.send(onStatus(streamId, 'status', 'NetStream.Play.Reset', `Playing and resetting ${name.path}.`));
    this.send(onStatus(streamId, 'status', 'NetStream.Play.Start', `Started playing ${name.path}.`));
    this.sendRaw(
      encodeMessage(
        {
          type: MessageType.DataAmf0,
          chunkStreamId: ChunkStreamId.Status,
          streamId,
          timestamp: 0,
          payload: encodeAmf0('|RtmpSampleAccess', true, true),
        },
        OUT_CHUNK_SIZE,
      ),
    );
    const stream = this.ctx.hub.entry(name);
    const viewer = this.playViewer(streamId, name);
    const fanOut = rtmpFanOut(this.ctx.hub, stream, streamId, this.ctx.log, this.ctx.budget);
    this.streams.set(streamId, { kind: 'play', name, fanOut, viewer, paused: false });
    this.updateIdleTimeout();
    fanOut.add(viewer);
    stream.viewerJoined('rtmp', this.socket);
    this.log.info({ path: name.path, live: stream.isLive }, 'play');
  }

  private playViewer(streamId: number, name: StreamName): Viewer {
    const socket = this.socket;
    return {
      write: (buf) => this.sendRaw(buf),
      get buffered() {
        return socket.writableLength;
      },
      close: (reason) => this.close(reason),
      streamEnded: () => {
        this.send(
          onStatus(streamId, 'status', 'NetStream.Play.UnpublishNotify', `${name.path} is unpublished.`),
        );
        this.send(streamEof(streamId));
      },
      streamStarted: () => {
        this.send(streamBegin(streamId));
        this.send(
          onStatus(streamId, 'status', 'NetStream.Play.PublishNotify', `${name.path} is now published.`),
        );
      },
    };
  }

  private onPause(cmd: RtmpCommand, streamId: number): void {
    const ns = this.streams.get(streamId);
    if (ns?.kind !== 'play') return;
    const pause = cmd.args[0] === true;
    if (pause && !ns.paused) {
      ns.fanOut.remove(ns.viewer);
      ns.paused = true;
      this.send(onStatus(streamId, 'status', 'NetStream.Pause.Notify', `Paused ${ns.name.path}.`));
    } else if (!pause && ns.paused) {
      ns.paused = false;
      this.send(onStatus(streamId, 'status', 'NetStream.Unpause.Notify', `Unpaused ${ns.name.path}.`));
      const stream = this.ctx.hub.entry(ns.name);
      ns.fanOut = rtmpFanOut(this.ctx.hub, stream, streamId, this.ctx.log, this.ctx.budget);
      ns.fanOut.add(ns.viewer);
    }
  }

  private endPublishNamed(raw: AmfValue): void {
    for (const [id, ns] of this.streams) {
      if (ns.kind === 'publish' && splitStreamKey(raw).stream === ns.name.stream) {
        this.endNetStream(id, 'FCUnpublish');
      }
    }
  }

  private endNetStream(streamId: number, reason: string): void {
    const ns = this.streams.get(streamId);
    if (!ns || ns.kind === 'idle') return;
    if (ns.kind === 'publish') {
      this.ctx.hub.unpublish(ns.toStream.stream, ns.publisher, reason);
      if (!this.closed) {
        this.send(
          onStatus(streamId, 'status', 'NetStream.Unpublish.Success', `${ns.name.path} is now unpublished.`),
        );
      }
    } else {
      this.ctx.hub.get(ns.name.path)?.viewerLeft('rtmp', this.socket);
      ns.fanOut.remove(ns.viewer);
    }
    this.streams.set(streamId, { kind: 'idle' });
    if (!this.closed) this.updateIdleTimeout();
  }

  /**
   * A connection must be doing something: a publisher must keep sending, and a connection that
   * neither publishes nor plays is dropped after a while. A player may sit idle (waiting for a
   * publish, or paused) as long as it likes.
   */
  private get idleTimeoutMs(): number {
    return this.ctx.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  private updateIdleTimeout(): void {
    const kinds = [...this.streams.values()].map((ns) => ns.kind);
    this.socket.setTimeout(kinds.includes('play') && !kinds.includes('publish') ? 0 : this.idleTimeoutMs);
  }

  private idleReason(): string {
    const publishing = [...this.streams.values()].some((ns) => ns.kind === 'publish');
    return publishing
      ? `publisher sent nothing for ${this.idleTimeoutMs} ms`
      : `no publish or play within ${this.idleTimeoutMs} ms`;
  }

  /** A refused publish/play: the client is told why, then the connection is closed. */
  private refuse(streamId: number, code: string, err: unknown): void {
    const description = describeError(err);
    this.send(onStatus(streamId, 'error', code, description));
    this.log.warn({ code, reason: description }, 'refused');
    // Let the status reach the client before the socket goes.
    this.socket.end(() => this.close(`refused: ${description}`));
  }

  private reply(cmd: RtmpCommand, commandObject: AmfValue, ...args: AmfValue[]): void {
    if (cmd.transactionId === 0) return;
    this.send(encodeCommand({ name: '_result', transactionId: cmd.transactionId, commandObject, args }, 0));
  }

  private send(msg: RtmpMessage): void {
    this.sendRaw(encodeMessage(msg, OUT_CHUNK_SIZE));
  }

  private sendRaw(buf: Buffer): void {
    if (!this.closed && this.socket.writable) this.socket.write(buf);
  }
}

/** `stream?query` → its parts (a non-string key gives an empty name, refused by makeStreamName). */
function splitStreamKey(raw: AmfValue): { stream: string; query: string } {
  const key = typeof raw === 'string' ? raw : '';
  const q = key.indexOf('?');
  return q < 0 ? { stream: key, query: '' } : { stream: key.slice(0, q), query: key.slice(q) };
}
