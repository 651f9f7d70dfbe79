/**
 * WebSocket-FLV publish (`ws://HOST:8501/{app}/{stream}`): the FLV header, then one binary message
 * per FLV tag. The server checks the name, credentials and whether the name is free before it
 * accepts the upgrade, so a refusal comes out of `open` with the server's reason (an HTTP answer
 * to the upgrade request), before any media is sent.
 */
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { encodeFlvHeader } from '../formats/flv/header.js';
import { encodeFlvTag } from '../formats/flv/tag.js';
import { PushError } from './push-error.js';
import { connectFailure, lossSignal, type PushTarget, type TargetOptions } from './target.js';

/** Statuses that mean "this publish is not allowed", not "the server went away". */
const REFUSAL_STATUSES = new Set([400, 401, 403, 404, 405, 409, 413, 415]);
const MAX_REASON_BYTES = 4096;
/** Past this many bytes queued on the socket, send() waits until they are written. */
const HIGH_WATER_BYTES = 256 * 1024;
/** Close codes the server uses for a refused publish (policy violation) and bad input. */
const REFUSED_CLOSE_CODES = new Set([1003, 1007, 1008]);

export async function openWsFlvTarget(url: string, opts: TargetOptions = {}): Promise<PushTarget> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PushError('usage', `not a URL: ${url}`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new PushError('usage', `not a ws:// URL: ${url}`);
  if (u.pathname.endsWith('.flv')) {
    throw new PushError(
      'usage',
      `${url} is a play URL: publish to ws://HOST:PORT/{app}/{stream}, without .flv`,
    );
  }
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    handshakeTimeout: timeoutMs,
    headers: { 'User-Agent': 'Estuary-pusher' },
  });
  await new Promise<void>((resolve, reject) => {
    let answered = false;
    ws.once('open', () => resolve());
    // The server's answer instead of the upgrade: its status and reason are the refusal.
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      answered = true;
      void readReason(res).then((text) => {
        const status = res.statusCode ?? 0;
        const kind = REFUSAL_STATUSES.has(status) ? 'publish-refused' : 'connection-lost';
        reject(new PushError(kind, `${url}: HTTP ${status}${text ? `: ${text}` : ''}`));
        ws.terminate();
      });
    });
    ws.on('error', (err) => {
      if (!answered) reject(connectFailure(url, err));
    });
  });
  return new WsFlvTarget(url, ws);
}

function readReason(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      if (text.length < MAX_REASON_BYTES) text += d;
    });
    res.on('end', () => resolve(text.trim().slice(0, MAX_REASON_BYTES)));
    res.on('error', () => resolve(text.trim()));
    res.on('close', () => resolve(text.trim()));
  });
}

class WsFlvTarget implements PushTarget {
  readonly description: string;
  readonly lost: Promise<PushError>;
  private readonly report: (err: PushError) => void;
  private failure: PushError | undefined;
  private ours = false;
  private headerSent = false;
  private closed: { code: number; reason: string } | undefined;
  private onClosed: (() => void) | undefined;

  constructor(
    private readonly url: string,
    private readonly ws: WebSocket,
  ) {
    this.description = `WebSocket-FLV ${url}`;
    const { lost, report } = lossSignal();
    this.lost = lost;
    this.report = report;
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString('utf8') };
      this.onClosed?.();
      if (!this.ours) this.fail(this.closeError());
    });
    ws.on('error', (err) => this.fail(new PushError('connection-lost', `${url}: ${err.message}`)));
  }

  private closeError(): PushError {
    const c = this.closed!;
    const text = `${this.url}: the server closed the WebSocket (${c.code}${c.reason ? `: ${c.reason}` : ''})`;
    return new PushError(REFUSED_CLOSE_CODES.has(c.code) ? 'publish-refused' : 'connection-lost', text);
  }

  private fail(err: PushError): void {
    if (this.failure || this.ours) return;
    this.failure = err;
    this.report(err);
  }

  async send(type: number, timestamp: number, body: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.headerSent) {
      this.headerSent = true;
      // The FLV header's audio/video flags are advisory (E.2); players look at the tags.
      this.ws.send(encodeFlvHeader({ audio: true, video: true }), { binary: true });
    }
    const tag = encodeFlvTag(type, timestamp, body);
    if (this.ws.bufferedAmount + tag.length <= HIGH_WATER_BYTES) {
      this.ws.send(tag, { binary: true });
    } else {
      // ws calls back once this message is written to the socket: everything before it is too.
      await new Promise<void>((resolve) => this.ws.send(tag, { binary: true }, () => resolve()));
    }
    if (this.failure) throw this.failure;
  }

  finish(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.ours = true;
    return new Promise((resolve, reject) => {
      const done = () => {
        const c = this.closed!;
        if (c.code === 1000 || c.code === 1005) resolve();
        else reject(this.closeError());
      };
      if (this.closed) return done();
      this.onClosed = done;
      this.ws.close(1000, 'end of stream');
    });
  }

  destroy(): void {
    this.ours = true;
    this.ws.terminate();
  }
}
