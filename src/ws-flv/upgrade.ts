import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import { parseStreamPath } from '../hub/stream-name.js';
import { WsFlvPlay, type WsPlayContext } from './play.js';

/**
 * The WebSocket side of the live port: an HTTP `Upgrade: websocket` request on
 * `/{app}/{stream}.flv` becomes a WS-FLV viewer. The HTTP server hands every upgrade here and
 * knows nothing of WebSocket.
 */
export class WsFlvUpgrade {
  private readonly play: WsFlvPlay;

  constructor(private readonly ctx: WsPlayContext & { readonly log: Logger }) {
    this.play = new WsFlvPlay(ctx);
  }

  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    try {
      this.play.handleUpgrade(req, socket, head, parseStreamPath(path, '.flv'));
    } catch (err) {
      this.ctx.log.warn({ path: path.slice(0, 200), reason: describeError(err) }, 'websocket refused');
      socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n${describeError(err)}\n`);
    }
  }

  /** Closes every WebSocket viewer. */
  close(): void {
    this.play.close();
  }
}
