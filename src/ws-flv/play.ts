import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { flvFanOut } from '../flv/from-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';
import type { Viewer, ViewerBudget } from '../hub/viewer.js';

export interface WsPlayContext {
  readonly hub: StreamHub;
  readonly log: Logger;
  readonly budget: ViewerBudget;
}

/**
 * `ws://HOST:8501/{app}/{stream}.flv`: the same FLV bytes as HTTP-FLV (the same fan-out, so the
 * same Buffers), each batch sent as one binary WebSocket message, as mpegts.js expects.
 */
export class WsFlvPlay {
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    // Viewers only listen; a large message from one is not a viewer.
    maxPayload: 64 * 1024,
  });

  constructor(private readonly ctx: WsPlayContext) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, name: StreamName): void {
    const stream = this.ctx.hub.get(name.path);
    if (!stream?.isLive) {
      socket.end(
        `HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nstream ${name.path} is not being published\n`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, req, name));
  }

  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private attach(ws: WebSocket, req: IncomingMessage, name: StreamName): void {
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
        log.info({ reason }, 'viewer closed');
        ws.terminate();
      },
      streamEnded: () => ws.close(1000, 'stream ended'),
    };
    const fanOut = flvFanOut(this.ctx.hub, stream, this.ctx.log, this.ctx.budget);
    fanOut.add(viewer);
    stream.viewerJoined('ws-flv', req.socket);
    ws.on('close', () => {
      fanOut.remove(viewer);
      stream.viewerLeft('ws-flv', req.socket);
    });
    ws.on('error', (err) => log.debug({ err: err.message }, 'websocket error'));
  }
}
