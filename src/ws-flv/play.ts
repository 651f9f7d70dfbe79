import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { describeError } from '../errors.js';
import { flvFanOut } from '../flv/from-stream.js';
import {
  type PlayOptions,
  parsePlayOptions,
  playRequest,
  queryOf,
  sourceRequest,
} from '../flv/play-options.js';
import { rawReply, statusOf } from '../http/respond.js';
import { type Admission, admitted } from '../hub/admission.js';
import type { LiveStream } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';
import type { Viewer, ViewerBudget } from '../hub/viewer.js';
import { annotateConnection } from '../net/connection-info.js';
import type { LimitHits } from '../net/limit-hits.js';

export interface WsPlayContext {
  readonly hub: StreamHub;
  /** What a play goes through first (access rules, callbacks, limits); none: all admitted. */
  readonly admission?: Admission;
  readonly log: Logger;
  readonly budget: ViewerBudget;
  /** How long a viewer waits for a stream the hub's source is bringing (see PlayContext). */
  readonly sourceWaitMs?: number;
  /** The largest message a viewer may send (default 64 KiB): viewers only listen. */
  readonly wsViewerMaxMessageBytes?: number;
  /** Where a bound passed is counted and logged (rate-limited). */
  readonly limits?: LimitHits;
}

/**
 * `ws://HOST:8501/{app}/{stream}.flv[?disableAudio=1|disableVideo=1|disableGop=1]`: the same FLV
 * bytes as HTTP-FLV (the same fan-outs, so the same Buffers), each batch sent as one binary
 * WebSocket message, as mpegts.js expects.
 */
export class WsFlvPlay {
  private readonly wss: WebSocketServer;

  constructor(private readonly ctx: WsPlayContext) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      // Viewers only listen; a large message from one is not a viewer.
      maxPayload: ctx.wsViewerMaxMessageBytes ?? 64 * 1024,
    });
  }

  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, name: StreamName): Promise<void> {
    let options: PlayOptions;
    let stream: LiveStream | undefined;
    try {
      options = parsePlayOptions(queryOf(req.url));
      await admitted(this.ctx.admission, playRequest(req, name, 'ws-flv'));
      stream = await this.ctx.hub.awaitLive(
        name,
        sourceRequest(req.url, req.headers.via),
        this.ctx.sourceWaitMs,
      );
    } catch (err) {
      const status = statusOf(err);
      this.ctx.log[status === 404 ? 'debug' : 'info'](
        { proto: 'ws-flv-play', path: name.path, reason: describeError(err) },
        'play refused',
      );
      socket.end(rawReply(status, describeError(err)));
      return;
    }
    if (socket.destroyed) return;
    if (!stream?.isLive) {
      socket.end(rawReply(404, `stream ${name.path} is not being published`));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, req, name, options));
  }

  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private attach(ws: WebSocket, req: IncomingMessage, name: StreamName, options: PlayOptions): void {
    const stream = this.ctx.hub.get(name.path);
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const log = this.ctx.log.child({ proto: 'ws-flv-play', path: name.path, remote });
    if (!stream?.isLive) {
      ws.close(1011, 'stream ended');
      return;
    }
    const viewer: Viewer = {
      write: (buf) => ws.send(buf, { binary: true }),
      get buffered() {
        return ws.bufferedAmount;
      },
      close: (reason) => {
        // The port's connection line (ConnectionGuard) says it, with the bytes and duration.
        annotateConnection(req.socket, { reason });
        ws.terminate();
      },
      streamEnded: (reason) => {
        annotateConnection(req.socket, { reason: `the stream ended (${reason})` });
        ws.close(1000, 'stream ended');
      },
    };
    const fanOut = flvFanOut(this.ctx.hub, stream, this.ctx.log, this.ctx.budget, options);
    fanOut.add(viewer, options.join);
    stream.viewerJoined('ws-flv', req.socket);
    annotateConnection(req.socket, { protocol: 'ws-flv', role: 'viewer', path: name.path });
    log.debug({ ...options }, 'viewer joined');
    ws.on('close', () => {
      fanOut.remove(viewer);
      stream.viewerLeft('ws-flv', req.socket);
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        const why = `a viewer sent a WebSocket message over ${this.ctx.wsViewerMaxMessageBytes ?? 64 * 1024} bytes`;
        this.ctx.limits?.hit('ws_message_bytes', { proto: 'ws-flv-play', path: name.path, remote }, why);
        annotateConnection(req.socket, { reason: why });
      } else {
        log.debug({ err: err.message }, 'websocket error');
      }
    });
  }
}
