import { connect, type Socket } from 'node:net';
import type { ViewStats } from './view-stats.js';
import { BenchViewer, type ViewerOptions } from './viewer.js';

/** Response headers larger than this are not a media server's. */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * One read buffer for every viewer of this load process (socket `onread`): each read is handled
 * before the next one is made, and nothing keeps a view of it (the FLV check copies the few bytes
 * it needs), so thousands of viewers do not allocate a Buffer per read — the load generator shares
 * the cores with the server it measures.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

enum Chunk {
  Size = 0,
  Data = 1,
  DataEnd = 2,
}

/**
 * An HTTP-FLV viewer on a raw socket: a minimal HTTP/1.1 GET, the status line checked, the
 * body de-chunked when the server chose chunked transfer coding (RFC 9112 7.1, as node:http
 * does), and every body byte fed to the FLV check without a copy.
 */
export class HttpFlvViewer extends BenchViewer {
  private readonly socket: Socket;
  private header: Buffer | undefined = Buffer.alloc(0);
  private chunked = false;
  private chunkState = Chunk.Size;
  private chunkLeft = 0;
  private sizeText = '';

  constructor(url: URL, opts: ViewerOptions, stats: ViewStats, onFinished: (v: BenchViewer) => void) {
    super(opts, stats, onFinished);
    this.socket = connect({
      host: url.hostname,
      port: Number(url.port),
      localAddress: opts.localAddress,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array) => {
          this.onData(buf.subarray(0, n) as Buffer);
          return true;
        },
      },
    });
    this.socket.on('connect', () => {
      this.connectedAt = performance.now();
      this.socket.write(
        `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: estuary-bench\r\n\r\n`,
      );
    });
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.end(`socket ${err.code ?? err.message}`));
    this.socket.on('close', () => this.end('closed by the server'));
  }

  protected disconnect(): void {
    this.socket.destroy();
  }

  private onData(buf: Buffer): void {
    if (this.finished) return;
    if (this.header) {
      const all: Buffer = this.header.length ? Buffer.concat([this.header, buf]) : buf;
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) {
        if (all.length > MAX_HEADER_BYTES) return this.end('HTTP header too large');
        this.header = Buffer.from(all);
        return;
      }
      const head = all.toString('latin1', 0, end);
      this.header = undefined;
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (status?.[1] !== '200') return this.end(`HTTP ${status?.[1] ?? 'bad status line'}`);
      this.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
      if (end + 4 < all.length) this.body(all, end + 4);
      return;
    }
    this.body(buf, 0);
  }

  private body(buf: Buffer, from: number): void {
    if (!this.chunked) return this.onMedia(buf, from, buf.length);
    let i = from;
    while (i < buf.length && !this.finished) {
      if (this.chunkState === Chunk.Data) {
        const n = Math.min(this.chunkLeft, buf.length - i);
        this.onMedia(buf, i, i + n);
        i += n;
        this.chunkLeft -= n;
        if (this.chunkLeft === 0) this.chunkState = Chunk.DataEnd;
      } else if (this.chunkState === Chunk.DataEnd) {
        // The CRLF after chunk-data: skip up to and including the LF.
        if (buf[i++] === 0x0a) this.chunkState = Chunk.Size;
      } else {
        const b = buf[i++]!;
        if (b !== 0x0a) {
          if (this.sizeText.length > 32) return this.end('bad chunk size line');
          this.sizeText += String.fromCharCode(b);
          continue;
        }
        const size = Number.parseInt(this.sizeText.split(';', 1)[0]!.trim(), 16);
        this.sizeText = '';
        if (!Number.isFinite(size)) return this.end('bad chunk size');
        if (size === 0) return this.end('response ended');
        this.chunkLeft = size;
        this.chunkState = Chunk.Data;
      }
    }
  }
}
