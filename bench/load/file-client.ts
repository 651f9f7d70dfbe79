/**
 * One HTTP/1.1 client of the file benchmarks over a raw keep-alive socket (node:http's client
 * costs more than the server under test at these counts): it sends one request at a time,
 * reads the answer by its Content-Length without keeping the body (a playlist's body is kept, to
 * find the newest segment), and asks again until its time is up.
 *
 *  - `live`: the live playlist, then the newest segment it lists, in a loop (an HLS player
 *    without the pauses);
 *  - `download`: the whole big file, again and again;
 *  - `range`: `rangeBytes` at a random offset of the big file (a seeking player).
 */
import { connect, type Socket } from 'node:net';
import type { Histogram } from '../lib/histogram.js';

export type FileMode = 'live' | 'download' | 'range';

export interface FileClientOptions {
  readonly host: string;
  readonly port: number;
  readonly mode: FileMode;
  readonly localAddress: string;
  /** `/hls/live/stream/index.m3u8` */
  readonly playlist: string;
  /** `/mp4/live/stream/output_merge/stream_full.mp4` and its size. */
  readonly bigFile: string;
  readonly bigSize: number;
  readonly rangeBytes: number;
  /** Stop asking at this wall-clock time (ms since the epoch). */
  readonly endAt: number;
  /** A request that receives nothing this long fails (stalled). */
  readonly timeoutMs: number;
  /**
   * Wait this long after each answer before the next request (0: at once). With 0 every client
   * keeps one request in flight, so TTFB is queueing: by Little's law N clients at R requests/s
   * wait N / R on average whatever the server; a pause models players between seeks.
   */
  readonly pauseMs?: number;
  /** Requests sent from this wall-clock time on (ms since the epoch) count in ttfbPlateau too. */
  readonly plateauFrom?: number;
}

export interface FileStats {
  requests: number;
  failures: Record<string, number>;
  ttfb: Histogram;
  /** The same for requests sent on the plateau only (every client connected, the ramp over). */
  ttfbPlateau: Histogram;
  bytes: number;
  /** Idle keep-alive connections the server closed between two requests (not failures). */
  idleCloses: number;
  /** Epoch second → [requests completed, body bytes received]. */
  perSecond: Map<number, [number, number]>;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * One read buffer for every client of the process: the body is counted, not kept, so each
 * socket reads into this (up to 256 KiB a read) instead of node:net allocating 64 KiB per read.
 * At 8 Gbit/s that allocation and the 64 KiB reads made the load generator, with one core, the
 * limit of the download scenario for nginx and the gateway alike (it used ~9.5 of 10.5 s).
 * Safe because each read is handled whole, synchronously, before the next one fills it.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

export class FileClient {
  private socket: Socket | undefined;
  private head: Buffer[] = [];
  private headLen = 0;
  private bodyLeft = -1;
  private status = 0;
  private body: Buffer[] | undefined;
  private sentAt = 0;
  private onPlateau = false;
  private gotFirstByte = false;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by every arm and disarm: a fired timer's verdict stands only if nothing came since. */
  private armed = 0;
  /** The pause before the next request (pauseMs); a connection that fails meanwhile cancels it. */
  private pauseTimer: NodeJS.Timeout | undefined;
  private asked = 0;
  private segment: string | undefined;
  private what = '';
  private done = false;

  constructor(
    private readonly o: FileClientOptions,
    private readonly stats: FileStats,
    private readonly onDone: () => void,
  ) {
    this.open();
  }

  private open(): void {
    const s = connect({
      host: this.o.host,
      port: this.o.port,
      localAddress: this.o.localAddress,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array) => {
          this.onData(buf.subarray(0, n) as Buffer);
          return true;
        },
      },
    });
    this.socket = s;
    // A SYN the kernel dropped (a full accept queue) is retried by TCP for minutes: without this
    // timer such a client would never finish, and neither would its load process.
    this.what = 'connect';
    this.bodyLeft = -1;
    this.arm();
    s.setNoDelay(true);
    // After an idle close the pending pause sends the next request; else the connection does.
    s.on('connect', () => {
      if (this.pauseTimer === undefined) this.ask();
      else this.disarm();
    });
    s.on('error', (err: NodeJS.ErrnoException) => this.fail(err.code ?? 'socket error'));
    s.on('close', () => {
      if (this.socket !== s || this.done) return;
      // Closing an idle keep-alive connection is the server's right (RFC 9112 9.6; nginx drains
      // idle ones when it runs short of connections): between requests it is no failure, the
      // client connects again for its next request, as a player would.
      // A pending pause means no request is in flight on this connection.
      if (this.pauseTimer !== undefined) return this.reconnectIdle();
      this.fail('closed by the server');
    });
  }

  private path(): { path: string; range?: string } {
    if (this.o.mode === 'download') return { path: this.o.bigFile };
    if (this.o.mode === 'range') {
      const start = Math.floor(Math.random() * Math.max(1, this.o.bigSize - this.o.rangeBytes));
      return { path: this.o.bigFile, range: `bytes=${start}-${start + this.o.rangeBytes - 1}` };
    }
    // live: playlist, segment, playlist, segment, …
    const seg = this.asked % 2 === 1 ? this.segment : undefined;
    return { path: seg ?? this.o.playlist };
  }

  private ask(): void {
    if (Date.now() >= this.o.endAt) return this.finish();
    // Between a failed connection and its replacement (which asks when it connects).
    if (!this.socket || this.done) return;
    const { path, range } = this.path();
    this.asked++;
    this.pauseTimer = undefined;
    this.body = path === this.o.playlist ? [] : undefined;
    this.head = [];
    this.headLen = 0;
    this.bodyLeft = -1;
    this.gotFirstByte = false;
    this.sentAt = performance.now();
    this.onPlateau = this.o.plateauFrom !== undefined && Date.now() >= this.o.plateauFrom;
    this.what = path === this.o.playlist ? 'playlist' : this.o.mode === 'live' ? 'segment' : this.o.mode;
    this.arm();
    this.socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${this.o.host}:${this.o.port}\r\n${range ? `Range: ${range}\r\n` : ''}\r\n`,
    );
  }

  /** A stall timeout: nothing received for `timeoutMs` (a long download is not one). */
  private disarm(): void {
    clearTimeout(this.timer);
    this.armed++;
  }

  private arm(): void {
    this.disarm();
    const armed = this.armed;
    this.timer = setTimeout(() => {
      // Timers run before the loop's poll phase: a load process that waited for a core can find
      // the deadline passed with the answer already in its socket, unread. The verdict waits for
      // this iteration's poll (setImmediate runs after it): a byte read there re-arms and clears
      // it, so the client's own lateness is never counted against the server.
      setImmediate(() => {
        if (armed !== this.armed) return;
        this.fail(
          this.what === 'connect'
            ? `not connected in ${this.o.timeoutMs / 1000} s`
            : `stalled ${this.o.timeoutMs / 1000} s (${this.what}, ${this.bodyLeft < 0 ? 'no head' : 'in the body'})`,
        );
      });
    }, this.o.timeoutMs);
  }

  private onData(d: Buffer): void {
    this.arm();
    if (!this.gotFirstByte) {
      this.gotFirstByte = true;
      const ms = performance.now() - this.sentAt;
      this.stats.ttfb.record(ms);
      if (this.onPlateau) this.stats.ttfbPlateau.record(ms);
    }
    let chunk = d;
    if (this.bodyLeft < 0) {
      const all = this.head.length === 0 ? chunk : Buffer.concat([...this.head, chunk]);
      const end = all.indexOf(HEAD_END);
      if (end < 0) {
        // Kept as a copy: the read buffer is reused by the next read.
        this.head.push(Buffer.from(chunk));
        this.headLen += chunk.length;
        return;
      }
      const text = all.subarray(0, end).toString('latin1');
      this.status = Number(text.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(text);
      this.bodyLeft = m ? Number(m[1]) : 0;
      chunk = all.subarray(end + 4);
    }
    this.bodyLeft -= chunk.length;
    this.count(chunk.length, 0);
    // The playlist's body is kept (a copy, as above) to find the newest segment.
    this.body?.push(Buffer.from(chunk));
    if (this.bodyLeft <= 0) this.complete();
  }

  private count(bytes: number, requests: number): void {
    this.stats.bytes += bytes;
    const sec = Math.floor(Date.now() / 1000);
    const row = this.stats.perSecond.get(sec);
    if (row) {
      row[0] += requests;
      row[1] += bytes;
    } else this.stats.perSecond.set(sec, [requests, bytes]);
  }

  private complete(): void {
    this.disarm();
    if (this.status !== 200 && this.status !== 206) {
      this.failures(`status ${this.status}`);
    } else {
      this.stats.requests++;
      this.count(0, 1);
    }
    // Only a playlist names segments: a 503's "ERR_LIMIT: too many clients" is not one (it was
    // taken for the newest segment, and its request line then got the server's 400).
    if (this.body && this.status === 200) {
      const lines = Buffer.concat(this.body).toString('latin1').trim().split('\n');
      const newest = lines.filter((l) => l.length > 0 && !l.startsWith('#')).pop();
      if (newest) this.segment = this.o.playlist.replace(/[^/]*$/, newest.trim());
    }
    if (this.o.pauseMs) this.pauseTimer = setTimeout(() => this.ask(), this.o.pauseMs);
    else this.ask();
  }

  private failures(why: string): void {
    this.stats.failures[why] = (this.stats.failures[why] ?? 0) + 1;
  }

  /** The pause goes on; its end sends the next request on the new connection. */
  private reconnectIdle(): void {
    this.disarm();
    this.socket = undefined;
    this.stats.idleCloses++;
    if (Date.now() < this.o.endAt - 500) this.open();
    else this.finish();
  }

  private fail(why: string): void {
    if (this.done) return;
    this.disarm();
    clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.failures(why);
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
    // A new connection if there is time left: one broken connection is one failure, not the end.
    if (Date.now() < this.o.endAt - 500) setTimeout(() => this.open(), 100);
    else this.finish();
  }

  /**
   * The load process's deadline passed with this client still waiting: counted as one failure
   * that says where it waited, so the run reports instead of hanging.
   */
  abandon(): void {
    if (this.done) return;
    this.failures(
      `unfinished after the end (${this.what}, ${this.bodyLeft < 0 ? 'no head' : 'in the body'})`,
    );
    this.finish();
  }

  get finished(): boolean {
    return this.done;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.disarm();
    clearTimeout(this.pauseTimer);
    this.socket?.destroy();
    this.onDone();
  }
}
