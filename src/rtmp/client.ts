import { EventEmitter } from 'node:events';
import { type Socket, connect as tcpConnect } from 'node:net';
import { describeError, EstuaryError, errorMessage } from '../errors.js';
import type { AmfObject, AmfValue } from '../formats/amf/value.js';
import { encodeMessage } from '../formats/rtmp/chunk-writer.js';
import { decodeCommand, encodeCommand, type RtmpCommand } from '../formats/rtmp/command.js';
import { RtmpConnection } from '../formats/rtmp/connection.js';
import { parseControl, setChunkSize, windowAckSize } from '../formats/rtmp/control.js';
import { ChunkStreamId, DEFAULT_CHUNK_SIZE, type RtmpMessage } from '../formats/rtmp/message.js';
import { MessageType, UserControlEvent } from '../formats/rtmp/message-types.js';

/** `rtmp://host[:port]/app[/inst]/stream[?query]` split the way OBS and FFmpeg split it. */
export interface RtmpUrl {
  host: string;
  port: number;
  /** Everything between the host and the last path segment. */
  app: string;
  /** The last path segment, with its query (credentials travel in the stream key). */
  stream: string;
  tcUrl: string;
}

export function parseRtmpUrl(url: string): RtmpUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EstuaryError('ERR_RTMP_COMMAND', `not a URL: ${url}`);
  }
  if (u.protocol !== 'rtmp:') throw new EstuaryError('ERR_RTMP_COMMAND', `not an rtmp:// URL: ${url}`);
  const parts = u.pathname.split('/').filter((p) => p.length > 0);
  if (parts.length < 2) throw new EstuaryError('ERR_RTMP_COMMAND', `${url} has no {app}/{stream} path`);
  const stream = decodeURIComponent(parts.pop()!) + u.search;
  const app = parts.map(decodeURIComponent).join('/');
  const port = u.port ? Number(u.port) : 1935;
  return { host: u.hostname, port, app, stream, tcUrl: `rtmp://${u.hostname}:${port}/${app}` };
}

export interface RtmpStatus {
  level: string;
  code: string;
  description: string;
}

/** Chunk size the client sends with. */
const CLIENT_CHUNK_SIZE = 4096;
const CLIENT_WINDOW = 5_000_000;

/**
 * A small RTMP client (publish or play) over the same sans-IO machines as the server: used by
 * the pusher, the edge and the tests.
 *
 * Events: 'media' (RtmpMessage of type 8/9/18 on the play stream), 'status' (RtmpStatus),
 * 'close' (reason: string).
 */
export class RtmpClient extends EventEmitter {
  private readonly conn = new RtmpConnection('client');
  private nextTx = 1;
  private readonly pending = new Map<
    number,
    { resolve: (c: RtmpCommand) => void; reject: (e: Error) => void }
  >();
  private closed = false;
  private closeReason = '';
  private readonly statusQueue: RtmpStatus[] = [];
  private statusWaiter: { resolve: (s: RtmpStatus) => void; reject: (e: Error) => void } | undefined;
  streamId = 0;

  private constructor(
    private readonly socket: Socket,
    readonly url: RtmpUrl,
  ) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('connection closed'));
  }

  /** Connects, shakes hands and sends `connect`; resolves once the server accepted it. */
  static async connect(url: string, timeoutMs = 10_000): Promise<RtmpClient> {
    const parsed = parseRtmpUrl(url);
    const socket = tcpConnect({ host: parsed.host, port: parsed.port });
    const client = new RtmpClient(socket, parsed);
    const timer = setTimeout(
      () => client.close(`no answer from ${parsed.host}:${parsed.port} in ${timeoutMs} ms`),
      timeoutMs,
    );
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        client.once('close', (reason: string) => reject(closedError(reason)));
      });
      const shaken = new Promise<void>((resolve) => client.once('handshake', resolve));
      socket.write(client.conn.start());
      await shaken;
      const result = await client.call('connect', {
        app: parsed.app,
        type: 'nonprivate',
        flashVer: 'FMLE/3.0 (compatible; Estuary)',
        tcUrl: parsed.tcUrl,
      });
      const info = result.args[0] as AmfObject | undefined;
      if (result.name !== '_result') {
        throw new EstuaryError(
          'ERR_RTMP_REFUSED',
          `connect refused: ${String(info?.code ?? '')} ${String(info?.description ?? '')}`,
        );
      }
      return client;
    } catch (err) {
      client.close(errorMessage(err));
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** createStream + publish; resolves on NetStream.Publish.Start, rejects with the server's reason. */
  async publish(stream = this.url.stream): Promise<void> {
    await this.createStream();
    this.send(
      encodeCommand(
        { name: 'publish', transactionId: 0, commandObject: null, args: [stream, 'live'] },
        this.streamId,
      ),
    );
    const status = await this.waitStatus();
    if (status.code !== 'NetStream.Publish.Start') {
      throw new EstuaryError('ERR_RTMP_REFUSED', `publish refused: ${status.code}: ${status.description}`);
    }
  }

  /** createStream + play; resolves on NetStream.Play.Start. Media arrives as 'media' events. */
  async play(stream = this.url.stream): Promise<void> {
    await this.createStream();
    this.send(windowAckSize(CLIENT_WINDOW));
    this.send(
      encodeCommand(
        { name: 'play', transactionId: 0, commandObject: null, args: [stream, -2] },
        this.streamId,
      ),
    );
    for (;;) {
      const status = await this.waitStatus();
      if (status.code === 'NetStream.Play.Start') return;
      if (status.level === 'error') {
        throw new EstuaryError('ERR_RTMP_REFUSED', `play refused: ${status.code}: ${status.description}`);
      }
    }
  }

  /** Sends one audio (8), video (9) or data (18) message on the publish stream. Returns false when the socket is full. */
  writeMedia(type: number, timestamp: number, payload: Buffer): boolean {
    const chunkStreamId =
      type === MessageType.Audio
        ? ChunkStreamId.Audio
        : type === MessageType.Video
          ? ChunkStreamId.Video
          : ChunkStreamId.Status;
    return this.sendRaw(
      encodeMessage(
        { type, chunkStreamId, streamId: this.streamId, timestamp: timestamp >>> 0, payload },
        CLIENT_CHUNK_SIZE,
      ),
    );
  }

  /** Sends a NetStream command with no reply (e.g. pause, receiveAudio) on the current stream. */
  sendCommand(name: string, args: AmfValue[]): void {
    this.send(encodeCommand({ name, transactionId: 0, commandObject: null, args }, this.streamId));
  }

  get buffered(): number {
    return this.socket.writableLength;
  }

  /** Waits until the socket has room again. */
  drained(): Promise<void> {
    // A closed client emits no more 'drain' or 'close': waiting would never end.
    if (this.closed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.on('close', done);
    });
  }

  /** Ends the publish/play politely, then closes. */
  async end(): Promise<void> {
    if (this.closed) return;
    if (this.streamId) {
      this.send(
        encodeCommand(
          { name: 'deleteStream', transactionId: 0, commandObject: null, args: [this.streamId] },
          0,
        ),
      );
    }
    await new Promise<void>((resolve) => this.socket.end(resolve));
    this.close('ended');
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.statusWaiter?.reject(closedError(reason));
    this.statusWaiter = undefined;
    for (const p of this.pending.values()) p.reject(closedError(reason));
    this.pending.clear();
    this.socket.destroy();
    this.emit('close', reason);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private async createStream(): Promise<void> {
    const res = await this.call('createStream', null);
    const id = res.args[0];
    if (res.name !== '_result' || typeof id !== 'number') {
      throw new EstuaryError('ERR_RTMP_REFUSED', 'createStream refused');
    }
    this.streamId = id;
  }

  private call(name: string, commandObject: AmfValue, ...args: AmfValue[]): Promise<RtmpCommand> {
    const transactionId = this.nextTx++;
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(closedError(this.closeReason || 'connection closed'));
      this.pending.set(transactionId, { resolve, reject });
      this.send(encodeCommand({ name, transactionId, commandObject, args }, 0));
    });
  }

  /**
   * The next status event not yet consumed. Statuses are queued: a server often sends several
   * in one TCP segment (Play.Reset then Play.Start), all emitted before an awaiting caller runs.
   */
  private waitStatus(): Promise<RtmpStatus> {
    const queued = this.statusQueue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(closedError(this.closeReason));
    return new Promise((resolve, reject) => {
      this.statusWaiter = { resolve, reject };
    });
  }

  private onData(chunk: Buffer): void {
    try {
      const step = this.conn.feed(chunk);
      for (const buf of step.send) this.socket.write(buf);
      if (step.handshakeCompleted) {
        this.send(setChunkSize(CLIENT_CHUNK_SIZE));
        this.emit('handshake');
      }
      for (const msg of step.messages) this.onMessage(msg);
    } catch (err) {
      this.close(describeError(err));
    }
  }

  private onMessage(msg: RtmpMessage): void {
    switch (msg.type) {
      case MessageType.UserControl: {
        // RtmpConnection answers pings; Stream EOF ends a play.
        const c = parseControl(msg);
        if (c.kind === 'userControl' && c.event === UserControlEvent.StreamEof) this.emit('eof');
        return;
      }
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3: {
        const cmd = decodeCommand(msg);
        if (cmd.name === '_result' || cmd.name === '_error') {
          const p = this.pending.get(cmd.transactionId);
          this.pending.delete(cmd.transactionId);
          p?.resolve(cmd);
        } else if (cmd.name === 'onStatus') {
          const info = (cmd.args[0] ?? {}) as AmfObject;
          const status: RtmpStatus = {
            level: String(info.level ?? ''),
            code: String(info.code ?? ''),
            description: String(info.description ?? ''),
          };
          this.emit('status', status);
          const waiter = this.statusWaiter;
          this.statusWaiter = undefined;
          if (waiter) waiter.resolve(status);
          else if (this.statusQueue.length < 64) this.statusQueue.push(status);
        }
        return;
      }
      case MessageType.Audio:
      case MessageType.Video:
      case MessageType.DataAmf0:
        this.emit('media', msg);
        return;
    }
  }

  private send(msg: RtmpMessage): void {
    this.sendRaw(encodeMessage(msg, this.conn.handshaking ? DEFAULT_CHUNK_SIZE : CLIENT_CHUNK_SIZE));
  }

  private sendRaw(buf: Buffer): boolean {
    if (this.closed) return false;
    return this.socket.write(buf);
  }
}

/** The connection went away while a request waited: `reason` says why (the close reason). */
function closedError(reason: string): EstuaryError {
  return new EstuaryError('ERR_CONNECTION_CLOSED', reason);
}
