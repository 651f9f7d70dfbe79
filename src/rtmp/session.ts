import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { describeError, EstuaryError } from '../errors.js';
import { encodeMessage } from '../formats/rtmp/chunk-writer.js';
import { decodeCommand } from '../formats/rtmp/command.js';
import { RtmpConnection } from '../formats/rtmp/connection.js';
import type { RtmpMessage } from '../formats/rtmp/message.js';
import { MessageType } from '../formats/rtmp/message-types.js';
import type { LimitHits } from '../net/limit-hits.js';
import { type ConnectionActivity, RtmpCommandMachine, type RtmpPeer } from './command-machine.js';
import { OUT_CHUNK_SIZE } from './from-stream.js';
import { type RtmpHubContext, RtmpHubLink } from './hub-link.js';

export interface RtmpSessionContext extends RtmpHubContext {
  /**
   * A publisher that sends nothing for this long is dropped so its stream name is freed; so is a
   * connection that neither publishes nor plays (default 30 s).
   */
  readonly idleTimeoutMs?: number;
  /** How long a player may wait for an unpublished stream; 0 (default) waits for ever. */
  readonly playWaitTimeoutMs?: number;
  /** The handshake must be complete within this (default 10 s). */
  readonly handshakeTimeoutMs?: number;
  /** Where a bound passed (handshake, idle, message size) is counted and logged; none: only the close line. */
  readonly limits?: LimitHits;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/**
 * The largest message, and all unfinished messages together, a connection may hold before it
 * publishes: a connect command is under 4 KiB and every other command or control message smaller,
 * and a player never needs more. maxMessageBytes applies only once a publish has started.
 */
const PRE_PUBLISH_BYTES = 64 * 1024;
/** What a publisher's other chunk streams (audio, data) may hold beside one maxMessageBytes message. */
const PUBLISH_INTERLEAVE_BYTES = 1024 * 1024;

/**
 * One RTMP connection's socket shell: moves bytes between the socket and the sans-IO handshake /
 * chunk machine (formats/rtmp/connection.ts), hands whole messages to the command machine
 * (command-machine.ts), and owns the connection's timers. It ends in exactly one place, `close`,
 * which logs why once.
 */
export class RtmpSession implements RtmpPeer {
  private readonly log: Logger;
  private readonly conn: RtmpConnection;
  private readonly machine: RtmpCommandMachine;
  private closed = false;
  private readonly handshakeTimer: NodeJS.Timeout;
  /** What the connection did when last looked at (undefined until the handshake is done). */
  private activity: ConnectionActivity | undefined;
  private publishLimits = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** When the connection last made progress: its activity began, or a publish message arrived. */
  private progressAt = 0;
  private readonly openedAt = Date.now();

  constructor(
    private readonly socket: Socket,
    private readonly ctx: RtmpSessionContext,
    conn: number,
  ) {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.log = ctx.log.child({ proto: 'rtmp', conn, remote });
    const preLimit = Math.min(PRE_PUBLISH_BYTES, ctx.maxMessageBytes);
    this.conn = new RtmpConnection('server', {
      maxMessageSize: preLimit,
      maxPartialBytes: preLimit,
      limitContext: 'before a publish starts',
    });
    this.machine = new RtmpCommandMachine(
      this,
      new RtmpHubLink(ctx, remote, this.log, socket, String(conn)),
      this.log,
      {
        playWaitTimeoutMs: ctx.playWaitTimeoutMs ?? 0,
      },
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('connection closed by peer'));
    const handshakeMs = ctx.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.handshakeTimer = setTimeout(() => {
      if (!this.conn.handshaking) return;
      this.limitHit('rtmp_handshake_timeout', `no RTMP handshake within ${handshakeMs} ms`);
    }, handshakeMs);
  }

  /** A bound was passed: counted, logged (rate-limited), and the connection closed for it. */
  private limitHit(limit: string, reason: string): void {
    this.ctx.limits?.hit(limit, { proto: 'rtmp', remote: this.remote }, reason);
    this.close(reason);
  }

  private get remote(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  /** The one place a session ends. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.idleTimer);
    this.machine.end(reason);
    // The connection's one line (the other ports' is ConnectionGuard's, with the same fields).
    this.log.info(
      {
        reason,
        app: this.machine.connectedApp,
        role: roleOf(this.activity),
        bytesIn: this.socket.bytesRead,
        bytesOut: this.socket.bytesWritten,
        durationMs: Date.now() - this.openedAt,
      },
      'closed',
    );
    this.socket.destroy();
  }

  closeAfterFlush(reason: string): void {
    // Let what was sent (a refusal's status) reach the client before the socket goes.
    this.socket.end(() => this.close(reason));
  }

  send(msg: RtmpMessage): void {
    this.sendRaw(encodeMessage(msg, OUT_CHUNK_SIZE));
  }

  sendRaw(buf: Buffer): void {
    if (!this.closed && this.socket.writable) this.socket.write(buf);
  }

  get buffered(): number {
    return this.socket.writableLength;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      const step = this.conn.feed(chunk);
      for (const buf of step.send) this.socket.write(buf);
      if (step.handshakeCompleted) {
        clearTimeout(this.handshakeTimer);
        this.activityChanged();
      }
      for (const msg of step.messages) {
        this.onMessage(msg);
        if (this.closed) return;
      }
    } catch (err) {
      // The chunk reader's bounds (message size, unfinished messages) are limits; other chunk
      // errors are just malformed input.
      if (
        err instanceof EstuaryError &&
        err.code === 'ERR_RTMP_CHUNK' &&
        /exceeds|over the limit/.test(err.message)
      ) {
        this.limitHit('rtmp_message_bytes', describeError(err));
      } else {
        this.close(describeError(err));
      }
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
        this.machine.command(decodeCommand(msg), msg.streamId);
        if (!this.closed) this.activityChanged();
        return;
      case MessageType.Audio:
      case MessageType.Video:
      case MessageType.DataAmf0:
      case MessageType.DataAmf3:
      case MessageType.Aggregate:
        if (this.activity === 'publish') this.progressAt = Date.now();
        this.machine.media(msg);
        return;
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

  /**
   * A connection must be doing something, and bytes alone are not progress (a client can trickle
   * one a second into a message it never finishes): a publisher must complete an audio, video or
   * data message at least every idleTimeoutMs, and a connection that neither publishes nor plays
   * is dropped idleTimeoutMs after it became so, whatever it sends. A player may sit idle
   * (waiting for a publish, or paused) as long as it likes.
   */
  private get idleTimeoutMs(): number {
    return this.ctx.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  /**
   * Called after every command, and by the command machine when an admission answered later:
   * re-arms the idle rule when what the connection does changed.
   */
  activityChanged(): void {
    if (this.closed) return;
    const now = this.machine.activity;
    if (now === this.activity) return;
    this.activity = now;
    if (now === 'publish' && !this.publishLimits) {
      this.publishLimits = true;
      this.conn.setLimits({
        maxMessageSize: this.ctx.maxMessageBytes,
        maxPartialBytes: this.ctx.maxMessageBytes + PUBLISH_INTERLEAVE_BYTES,
        limitContext: '',
      });
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (now === 'play') return;
    this.progressAt = Date.now();
    this.idleTimer = setTimeout(() => this.checkIdle(), this.idleTimeoutMs);
  }

  private checkIdle(): void {
    // Waiting for an admission (a callback, the workers' directory) is not idling: that wait has
    // its own bound, and its answer re-arms this rule (activityChanged).
    if (this.machine.admitting) {
      this.idleTimer = setTimeout(() => this.checkIdle(), this.idleTimeoutMs);
      return;
    }
    const left = this.progressAt + this.idleTimeoutMs - Date.now();
    if (this.activity === 'publish' && left > 0) {
      this.idleTimer = setTimeout(() => this.checkIdle(), left);
      return;
    }
    this.limitHit(
      'idle_timeout',
      this.activity === 'publish'
        ? `publisher sent no complete audio, video or data message for ${this.idleTimeoutMs} ms`
        : `no publish or play within ${this.idleTimeoutMs} ms`,
    );
  }
}

function roleOf(activity: ConnectionActivity | undefined): 'publisher' | 'viewer' | undefined {
  return activity === 'publish' ? 'publisher' : activity === 'play' ? 'viewer' : undefined;
}
