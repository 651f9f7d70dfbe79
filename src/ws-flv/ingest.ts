/**
 * `ws://HOST:8501/{app}/{stream}`: a published FLV stream as binary WebSocket messages (the
 * original pusher and its multi-process mode use it), with the rules of HTTP-FLV publish
 * (FlvBodyPublish): name, credentials and a free name checked before the upgrade is accepted (a
 * refusal is an HTTP answer with the reason, as for a POST), the publish begun by the FLV header
 * and a first tag, the idle rule counted in whole tags. The bytes may be split across messages
 * anyhow; a message may hold at most one largest tag with its framing (maxPayload).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { describeError } from '../errors.js';
import { FlvBodyPublish, type PublishEndStatus } from '../flv/body-publish.js';
import { queryOf } from '../flv/play-options.js';
import { FLV_HEADER_SIZE, PREVIOUS_TAG_SIZE_SIZE } from '../formats/flv/header.js';
import { rawReply, statusOf } from '../http/respond.js';
import { type Admission, admit } from '../hub/admission.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';
import { annotateConnection } from '../net/connection-info.js';
import type { LimitHits } from '../net/limit-hits.js';

export interface WsIngestContext {
  readonly hub: StreamHub;
  /** What a publish goes through first (access rules, callbacks, limits); none: all admitted. */
  readonly admission?: Admission;
  readonly log: Logger;
  readonly maxTagBytes: number;
  readonly idleTimeoutMs: number;
  /** Where a bound passed is counted and logged (rate-limited). */
  readonly limits?: LimitHits;
}

/** FLV tag header (E.4.1) + its PreviousTagSize: the framing around one tag's data. */
const TAG_FRAMING = 11 + PREVIOUS_TAG_SIZE_SIZE;
/** A peer that does not finish the closing handshake is cut off after this. */
const CLOSE_GRACE_MS = 2000;

/**
 * WebSocket close codes (RFC 6455 7.4.1) for how a publish ended: 1000 a clean end, 1008 policy
 * violation (refused, idle), 1007 data inconsistent with the message type (malformed FLV), 1001
 * going away (the server shuts down or kicks it); a text message gets 1003 (attach).
 */
function closeCode(status: PublishEndStatus): number {
  if (status === undefined) return 1000;
  if (status === 400 || status === 415) return 1007;
  if (status === 503) return 1001;
  return 1008;
}

/** A close reason is at most 123 bytes (RFC 6455 5.5: a control frame's payload is ≤ 125). */
function closeReason(reason: string): string {
  let r = reason.slice(0, 123);
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

export class WsFlvIngest {
  private readonly wss: WebSocketServer;

  constructor(private readonly ctx: WsIngestContext) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: FLV_HEADER_SIZE + PREVIOUS_TAG_SIZE_SIZE + TAG_FRAMING + ctx.maxTagBytes,
    });
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, asked: StreamName): void {
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const query = queryOf(req.url);
    const refuse = (err: unknown) => {
      this.ctx.log
        .child({ proto: 'ws-flv-publish', path: asked.path, remote })
        .warn({ reason: describeError(err) }, 'publish refused');
      socket.end(rawReply(statusOf(err), describeError(err)));
    };
    const request = {
      action: 'publish' as const,
      name: asked,
      query,
      address: req.socket.remoteAddress ?? '',
      protocol: 'ws-flv',
      clientId: remote,
      connection: req.socket,
    };
    admit(
      this.ctx.admission,
      request,
      (name) => {
        if (socket.destroyed) return;
        try {
          this.ctx.hub.checkPublish(name, query);
        } catch (err) {
          return refuse(err);
        }
        const log = this.ctx.log.child({ proto: 'ws-flv-publish', path: name.path, remote });
        annotateConnection(socket, { protocol: 'ws-flv', role: 'publisher', path: name.path });
        this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, name, query, remote, log, socket));
      },
      refuse,
    );
  }

  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private attach(
    ws: WebSocket,
    name: StreamName,
    query: string,
    remote: string,
    log: Logger,
    socket: Duplex,
  ): void {
    let text = false;
    const publish = new FlvBodyPublish({
      hub: this.ctx.hub,
      name,
      query,
      protocol: 'ws-flv',
      remote,
      log,
      maxTagBytes: this.ctx.maxTagBytes,
      idleTimeoutMs: this.ctx.idleTimeoutMs,
      limits: this.ctx.limits,
      onEnd: (reason, status) => {
        annotateConnection(socket, { reason });
        if (ws.readyState !== ws.OPEN) return;
        ws.close(text ? 1003 : closeCode(status), closeReason(reason));
        setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
      },
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        text = true;
        publish.finish('a text message: WebSocket-FLV carries FLV bytes in binary messages', 400);
        return;
      }
      publish.push(data);
    });
    ws.on('close', (code: number) => {
      publish.end(code === 1000 || code === 1005 ? 'the WebSocket closed' : `the WebSocket closed (${code})`);
    });
    // ws reports a message over maxPayload (and other protocol errors) here, then closes (1009…).
    ws.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.ctx.limits?.hit(
          'ws_message_bytes',
          { proto: 'ws-flv-publish', path: name.path, remote },
          err.message,
        );
      }
      publish.finish(`WebSocket error: ${err.message}`, 400);
    });
  }
}
