import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { describeError, EstuaryError } from '../errors.js';
import { rawReply, statusOf } from '../http/respond.js';
import { parseStreamPath } from '../hub/stream-name.js';
import { WsFlvIngest, type WsIngestContext } from './ingest.js';
import { WsFlvPlay, type WsPlayContext } from './play.js';

export interface WsUpgradeContext extends WsPlayContext, WsIngestContext {
  readonly log: Logger;
  /** False on an edge: a WebSocket publish is refused with 405. */
  readonly publish: boolean;
}

/**
 * The WebSocket side of the live port: an HTTP `Upgrade: websocket` request on
 * `/{app}/{stream}.flv` becomes a WS-FLV viewer, one on `/{app}/{stream}` a WS-FLV publisher. The
 * HTTP server hands every upgrade here and knows nothing of WebSocket.
 */
export class WsFlvUpgrade {
  private readonly play: WsFlvPlay;
  private readonly ingest: WsFlvIngest | undefined;

  constructor(private readonly ctx: WsUpgradeContext) {
    this.play = new WsFlvPlay(ctx);
    this.ingest = ctx.publish ? new WsFlvIngest(ctx) : undefined;
  }

  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    // A refused upgrade is answered and closed; a socket error meanwhile is no one else's.
    socket.on('error', (err) => this.ctx.log.debug({ err: err.message }, 'websocket socket error'));
    const refuse = (err: unknown) => {
      this.ctx.log.warn({ path: path.slice(0, 200), reason: describeError(err) }, 'websocket refused');
      const status = statusOf(err);
      socket.end(rawReply(status, describeError(err), status === 405 ? { Allow: 'GET, HEAD, OPTIONS' } : {}));
    };
    try {
      if (path.endsWith('.flv')) {
        this.play.handleUpgrade(req, socket, head, parseStreamPath(path, '.flv')).catch(refuse);
      } else if (this.ingest) {
        this.ingest.handleUpgrade(req, socket, head, parseStreamPath(path));
      } else {
        refuse(
          new EstuaryError(
            'ERR_METHOD_NOT_ALLOWED',
            'a WebSocket-FLV publish is not served on an edge, which only plays',
          ),
        );
      }
    } catch (err) {
      refuse(err);
    }
  }

  /** Closes every WebSocket viewer and publisher. */
  close(): void {
    this.play.close();
    this.ingest?.close();
  }
}
