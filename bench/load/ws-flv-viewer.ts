import { WebSocket } from 'ws';
import type { ViewStats } from './view-stats.js';
import { BenchViewer, type ViewerOptions } from './viewer.js';

/** A WebSocket-FLV viewer (mpegts.js's transport): each binary message is a run of FLV bytes. */
export class WsFlvViewer extends BenchViewer {
  private readonly ws: WebSocket;

  constructor(url: URL, opts: ViewerOptions, stats: ViewStats, onFinished: (v: BenchViewer) => void) {
    super(opts, stats, onFinished);
    this.ws = new WebSocket(url, { localAddress: opts.localAddress, perMessageDeflate: false });
    this.ws.on('open', () => {
      this.connectedAt = performance.now();
    });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return this.end('text WebSocket message');
      this.onMedia(data, 0, data.length);
    });
    this.ws.on('unexpected-response', (_req, res) => this.end(`HTTP ${res.statusCode}`));
    this.ws.on('error', (err: NodeJS.ErrnoException) => this.end(`socket ${err.code ?? err.message}`));
    this.ws.on('close', () => this.end('closed by the server'));
  }

  protected disconnect(): void {
    this.ws.terminate();
  }
}
