/**
 * The NetConnection / NetStream command machine of one RTMP connection (RTMP spec 7.2): connect,
 * createStream, publish, play, pause, closeStream / deleteStream / FCUnpublish, and the replies
 * and status events each gets. It owns no socket and no hub: it talks to the peer through
 * `RtmpPeer` and reaches streams through `NetStreamLink`, so a unit test drives it with commands
 * and reads back what it sent.
 */
import type { Logger } from 'pino';
import { describeError, EstuaryError } from '../errors.js';
import { encodeAmf0 } from '../formats/amf/amf0.js';
import type { AmfObject, AmfValue } from '../formats/amf/value.js';
import { encodeCommand, onStatus, type RtmpCommand } from '../formats/rtmp/command.js';
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
import { makeStreamName, type StreamName } from '../hub/stream-name.js';
import type { Viewer } from '../hub/viewer.js';
import { OUT_CHUNK_SIZE } from './from-stream.js';

/** The connection as the command machine sees it (the socket shell implements it). */
export interface RtmpPeer {
  /** Sends one message (chunked at OUT_CHUNK_SIZE). */
  send(msg: RtmpMessage): void;
  /** Sends bytes that are already chunks (a play fan-out's shared Buffers). */
  sendRaw(buf: Buffer): void;
  /** Bytes queued to the peer and not yet sent. */
  readonly buffered: number;
  /** Ends the connection now; `reason` is logged once. */
  close(reason: string): void;
  /** Ends the connection once what was sent has gone out (a refusal the client must read). */
  closeAfterFlush(reason: string): void;
  /**
   * The connection's activity changed outside a command: an admission answered later (a
   * callback, another worker's directory) started or refused a publish or play. The peer's
   * timers follow `activity` (its idle rule once took a publisher admitted later for idle).
   */
  activityChanged?(): void;
}

/** A publish the hub accepted. */
export interface PublishSink {
  /** An audio, video, data or aggregate message of the publish. */
  push(msg: RtmpMessage): void;
  end(reason: string): void;
}

/** A play attached to a stream's fan-out. */
export interface PlaySource {
  /** Whether the stream is being published now (else the player waits for a publish). */
  readonly live: boolean;
  pause(): void;
  resume(): void;
  stop(): void;
}

/** How NetStreams reach the hub (src/rtmp/hub-link.ts). */
export interface NetStreamLink {
  /**
   * Whether `name` may be published or played (access rules, callbacks, limits: the hub's
   * Admission), and under which name: at once, or later; throws or rejects to refuse.
   */
  admit(action: 'publish' | 'play', name: StreamName, query: string): StreamName | Promise<StreamName>;
  /** Starts publishing `name`; throws (ERR_AUTH, ERR_STREAM_BUSY, …) to refuse. */
  publish(name: StreamName, query: string, kick: (reason: string) => void): PublishSink;
  /** Adds `viewer` to the RTMP output of `name` on message stream `streamId`. */
  play(name: StreamName, streamId: number, viewer: Viewer): PlaySource;
}

/** Window acknowledgement size and peer bandwidth we announce (nginx-rtmp and FFmpeg use 2.5–5 MB). */
const WINDOW_ACK_SIZE = 5_000_000;

type NetStreamState =
  | { kind: 'idle' }
  /** A publish or play waiting for its admission (a callback, another worker). */
  | { kind: 'pending' }
  | { kind: 'publish'; name: StreamName; sink: PublishSink }
  | {
      kind: 'play';
      name: StreamName;
      source: PlaySource;
      paused: boolean;
      /** Ends the wait for an unpublished stream (playWaitTimeoutMs). */
      waitTimer: NodeJS.Timeout | undefined;
    };

export interface CommandMachineOptions {
  /** How long a player may wait for a stream that is not published; 0 waits for ever. */
  readonly playWaitTimeoutMs: number;
}

/** What the connection does now: what its idle rule depends on. */
export type ConnectionActivity = 'publish' | 'play' | 'none';

export class RtmpCommandMachine {
  private app: string | undefined;
  /**
   * The query `connect` carried after the app name or in the tcUrl (OBS with a server URL of
   * `rtmp://host/live?sign=…`): credentials for a publish whose stream key has none.
   */
  private connectQuery = '';
  private readonly streams = new Map<number, NetStreamState>();
  private nextStreamId = 1;
  private ended = false;

  constructor(
    private readonly peer: RtmpPeer,
    private readonly link: NetStreamLink,
    private readonly log: Logger,
    private readonly opts: CommandMachineOptions = { playWaitTimeoutMs: 0 },
  ) {}

  /** The app `connect` named, once connected. */
  get connectedApp(): string | undefined {
    return this.app;
  }

  /** A publish or play waits for its admission (bounded by the admission's own timeouts). */
  get admitting(): boolean {
    for (const ns of this.streams.values()) if (ns.kind === 'pending') return true;
    return false;
  }

  /** Publishing if any NetStream publishes, else playing if any plays. */
  get activity(): ConnectionActivity {
    let play = false;
    for (const ns of this.streams.values()) {
      if (ns.kind === 'publish') return 'publish';
      if (ns.kind === 'play') play = true;
    }
    return play ? 'play' : 'none';
  }

  /** A command message (type 20 or 17) on message stream `streamId`. */
  command(cmd: RtmpCommand, streamId: number): void {
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
        return this.reply(cmd, null, undefined);
      case 'getStreamLength':
        return this.reply(cmd, null, 0);
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

  /** An audio, video, data or aggregate message: goes to the publish on its message stream. */
  media(msg: RtmpMessage): void {
    const ns = this.streams.get(msg.streamId);
    if (ns?.kind === 'publish') ns.sink.push(msg);
  }

  /** The connection is going: every NetStream ends, nothing more is sent. */
  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const id of [...this.streams.keys()]) this.endNetStream(id, reason);
  }

  private onConnect(cmd: RtmpCommand): void {
    if (this.app !== undefined) throw new EstuaryError('ERR_RTMP_COMMAND', 'connect sent twice');
    const obj = (cmd.commandObject ?? {}) as AmfObject;
    const app = splitQuery(typeof obj.app === 'string' ? obj.app : '');
    const tcUrl = splitQuery(typeof obj.tcUrl === 'string' ? obj.tcUrl : '');
    // OBS and FFmpeg may put a query (credentials) or a trailing slash after the app name.
    this.app = app.path.replace(/\/+$/, '');
    this.connectQuery = app.query || tcUrl.query;
    // Only short strings go to the log (a decoded value may be any shape the client chose), and
    // never a query: it carries credentials.
    this.log.info({ app: this.app, flashVer: logText(obj.flashVer), tcUrl: logText(tcUrl.path) }, 'connect');
    this.peer.send(windowAckSize(WINDOW_ACK_SIZE));
    this.peer.send(setPeerBandwidth(WINDOW_ACK_SIZE, PeerBandwidthLimit.Dynamic));
    this.peer.send(setChunkSize(OUT_CHUNK_SIZE));
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
   * The stream name a publish/play asks for, and the query that carries its credentials: the
   * one after the stream key (`cam?sign=…`), else the one `connect` carried (after the app name
   * or in the tcUrl), as nginx-rtmp takes them. Also refuses a command on a busy message stream.
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
    return { name: makeStreamName(this.app, stream), query: query || this.connectQuery };
  }

  private onPublish(cmd: RtmpCommand, streamId: number): void {
    let req: { name: StreamName; query: string };
    try {
      req = this.request(cmd, streamId);
    } catch (err) {
      return this.refuse(streamId, 'NetStream.Publish.BadName', err);
    }
    this.whenAdmitted('publish', streamId, req, 'NetStream.Publish.BadName', (name) => {
      let sink: PublishSink;
      try {
        sink = this.link.publish(name, req.query, (reason) => this.peer.close(reason));
      } catch (err) {
        this.streams.set(streamId, { kind: 'idle' });
        return this.refuse(streamId, 'NetStream.Publish.BadName', err);
      }
      this.streams.set(streamId, { kind: 'publish', name, sink });
      this.peer.send(streamBegin(streamId));
      this.peer.send(
        onStatus(streamId, 'status', 'NetStream.Publish.Start', `${name.path} is now published.`),
      );
    });
  }

  /**
   * Runs `go` once the hub's admission let the request through (at once, or when a callback or
   * another worker answered); the message stream waits meanwhile, and a refusal is told to the
   * client with `code` before the connection closes.
   */
  private whenAdmitted(
    action: 'publish' | 'play',
    streamId: number,
    req: { name: StreamName; query: string },
    code: string,
    go: (name: StreamName) => void,
  ): void {
    const pending: NetStreamState = { kind: 'pending' };
    this.streams.set(streamId, pending);
    // Still waited for: the connection did not end, nor the stream get deleted meanwhile.
    const current = () => !this.ended && this.streams.get(streamId) === pending;
    const refused = (err: unknown) => {
      if (!current()) return;
      this.streams.set(streamId, { kind: 'idle' });
      this.refuse(streamId, code, err);
    };
    let result: StreamName | Promise<StreamName>;
    try {
      result = this.link.admit(action, req.name, req.query);
    } catch (err) {
      return refused(err);
    }
    if (result instanceof Promise) {
      result.then(
        (name) => {
          if (!current()) return;
          go(name);
          this.peer.activityChanged?.();
        },
        (err: unknown) => {
          refused(err);
          this.peer.activityChanged?.();
        },
      );
    } else {
      go(result);
    }
  }

  private onPlay(cmd: RtmpCommand, streamId: number): void {
    let req: { name: StreamName; query: string };
    try {
      req = this.request(cmd, streamId);
    } catch (err) {
      return this.refuse(streamId, 'NetStream.Play.StreamNotFound', err);
    }
    // A play the rules refuse is NetStream.Play.Failed; the admitted name is the one asked for.
    this.whenAdmitted('play', streamId, req, 'NetStream.Play.Failed', () =>
      this.startPlay(streamId, req.name),
    );
  }

  private startPlay(streamId: number, name: StreamName): void {
    // start / duration / reset (args 1–3) select a position in a recorded stream; a live
    // stream has one position, now, so they are accepted and ignored (as nginx-rtmp does).
    this.peer.send(streamIsRecorded(streamId));
    this.peer.send(streamBegin(streamId));
    this.peer.send(
      onStatus(streamId, 'status', 'NetStream.Play.Reset', `Playing and resetting ${name.path}.`),
    );
    this.peer.send(onStatus(streamId, 'status', 'NetStream.Play.Start', `Started playing ${name.path}.`));
    this.peer.send({
      type: MessageType.DataAmf0,
      chunkStreamId: ChunkStreamId.Status,
      streamId,
      timestamp: 0,
      payload: encodeAmf0('|RtmpSampleAccess', true, true),
    });
    const source = this.link.play(name, streamId, this.playViewer(streamId, name));
    const ns: NetStreamState = { kind: 'play', name, source, paused: false, waitTimer: undefined };
    this.streams.set(streamId, ns);
    this.log.info({ path: name.path, live: source.live }, 'play');
    if (!source.live) this.startWait(streamId, ns);
  }

  /**
   * A player waits for a publish (as with nginx-rtmp), said in the log so a mistyped name is not
   * a silent hang, and for at most playWaitTimeoutMs when that is set.
   */
  private startWait(streamId: number, ns: Extract<NetStreamState, { kind: 'play' }>): void {
    const ms = this.opts.playWaitTimeoutMs;
    this.log.info({ path: ns.name.path, timeoutMs: ms || undefined }, 'player waits for a publish');
    clearTimeout(ns.waitTimer);
    if (ms <= 0) return;
    ns.waitTimer = setTimeout(() => {
      ns.waitTimer = undefined;
      if (this.streams.get(streamId) !== ns || ns.source.live) return;
      this.refuse(
        streamId,
        'NetStream.Play.StreamNotFound',
        `${ns.name.path} was not published within ${ms} ms`,
      );
    }, ms);
  }

  private stopWait(streamId: number): void {
    const ns = this.streams.get(streamId);
    if (ns?.kind !== 'play') return;
    clearTimeout(ns.waitTimer);
    ns.waitTimer = undefined;
  }

  private playViewer(streamId: number, name: StreamName): Viewer {
    const peer = this.peer;
    return {
      write: (buf) => peer.sendRaw(buf),
      get buffered() {
        return peer.buffered;
      },
      close: (reason) => peer.close(reason),
      streamEnded: () => {
        peer.send(
          onStatus(streamId, 'status', 'NetStream.Play.UnpublishNotify', `${name.path} is unpublished.`),
        );
        peer.send(streamEof(streamId));
        // The player stays and waits for the next publish.
        const ns = this.streams.get(streamId);
        if (ns?.kind === 'play' && !this.ended) this.startWait(streamId, ns);
      },
      streamStarted: () => {
        this.stopWait(streamId);
        peer.send(streamBegin(streamId));
        peer.send(
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
      // A paused player is not waiting for anything.
      this.stopWait(streamId);
      ns.source.pause();
      ns.paused = true;
      this.peer.send(onStatus(streamId, 'status', 'NetStream.Pause.Notify', `Paused ${ns.name.path}.`));
    } else if (!pause && ns.paused) {
      ns.paused = false;
      this.peer.send(onStatus(streamId, 'status', 'NetStream.Unpause.Notify', `Unpaused ${ns.name.path}.`));
      ns.source.resume();
      if (!ns.source.live) this.startWait(streamId, ns);
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
    if (ns.kind === 'pending') {
      // Its admission answers later and finds the stream gone.
      this.streams.set(streamId, { kind: 'idle' });
      return;
    }
    if (ns.kind === 'publish') {
      ns.sink.end(reason);
      if (!this.ended) {
        this.peer.send(
          onStatus(streamId, 'status', 'NetStream.Unpublish.Success', `${ns.name.path} is now unpublished.`),
        );
      }
    } else {
      clearTimeout(ns.waitTimer);
      ns.source.stop();
    }
    this.streams.set(streamId, { kind: 'idle' });
  }

  /** A refused publish/play: the client is told why, then the connection is closed. */
  private refuse(streamId: number, code: string, err: unknown): void {
    const description = typeof err === 'string' ? err : describeError(err);
    this.peer.send(onStatus(streamId, 'error', code, description));
    this.log.warn({ code, reason: description }, 'refused');
    this.peer.closeAfterFlush(`refused: ${description}`);
  }

  private reply(cmd: RtmpCommand, commandObject: AmfValue, ...args: AmfValue[]): void {
    if (cmd.transactionId === 0) return;
    this.peer.send(
      encodeCommand({ name: '_result', transactionId: cmd.transactionId, commandObject, args }, 0),
    );
  }
}

/** `stream?query` → its parts (a non-string key gives an empty name, refused by makeStreamName). */
function splitStreamKey(raw: AmfValue): { stream: string; query: string } {
  const { path, query } = splitQuery(typeof raw === 'string' ? raw : '');
  return { stream: path, query };
}

/** `x?query` → `x` and `?query` (empty when there is none, or nothing follows the `?`). */
function splitQuery(s: string): { path: string; query: string } {
  const q = s.indexOf('?');
  if (q < 0) return { path: s, query: '' };
  return { path: s.slice(0, q), query: q + 1 < s.length ? s.slice(q) : '' };
}

/** Longest client-chosen string written to a log line. */
const MAX_LOGGED_CHARS = 200;

/** A client-sent value as log text: strings only, cut short. */
function logText(v: AmfValue): string | undefined {
  return typeof v === 'string' ? v.slice(0, MAX_LOGGED_CHARS) : undefined;
}
