/**
 * What one RTMP connection may hold and how long it may dawdle, against a server process whose
 * memory the test reads: unfinished messages share one budget per connection (small until a
 * publish has started), and the idle timeout counts whole messages, not bytes. A real FFmpeg
 * publish and its viewer keep going throughout.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { encodeMessage } from '../../src/formats/rtmp/chunk-writer.js';
import { decodeCommand, encodeCommand } from '../../src/formats/rtmp/command.js';
import { RtmpConnection } from '../../src/formats/rtmp/connection.js';
import { setChunkSize } from '../../src/formats/rtmp/control.js';
import type { RtmpMessage } from '../../src/formats/rtmp/message.js';
import { httpGetStream } from '../helpers/flv-capture.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { type Running, start } from '../helpers/run.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { requireTool, tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const MB = 1024 * 1024;
const IDLE_MS = 2000;

/** A hand-driven RTMP client: the handshake and replies through the sans-IO connection, writes raw. */
class RawRtmp {
  readonly messages: RtmpMessage[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  private readonly conn = new RtmpConnection('client');
  /** The `remote` the server logs for this connection. */
  readonly remote: string;

  private constructor(readonly socket: Socket) {
    this.remote = `127.0.0.1:${socket.localPort}`;
    socket.on('error', () => {});
    this.closed = new Promise((r) =>
      socket.once('close', () => {
        this.isClosed = true;
        r();
      }),
    );
  }

  static async open(port: number): Promise<RawRtmp> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const c = new RawRtmp(socket);
    const shaken = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        const step = c.conn.feed(chunk);
        for (const b of step.send) socket.write(b);
        c.messages.push(...step.messages);
        if (step.handshakeCompleted) resolve();
      });
    });
    socket.write(c.conn.start());
    await shaken;
    return c;
  }

  /** Our chunk size stays the default 128 until `write` sends a Set Chunk Size. */
  send(msg: RtmpMessage): void {
    this.socket.write(encodeMessage(msg, 128));
  }

  command(name: string, tx: number, obj: unknown, args: unknown[], streamId = 0): void {
    this.send(
      encodeCommand({ name, transactionId: tx, commandObject: obj as null, args: args as null[] }, streamId),
    );
  }

  async publish(stream: string): Promise<void> {
    this.command('connect', 1, { app: 'live', tcUrl: 'rtmp://127.0.0.1/live' }, []);
    this.command('createStream', 2, null, []);
    this.command('publish', 0, null, [stream, 'live'], 1);
    await until('Publish.Start', () =>
      this.messages.some(
        (m) => m.type === 20 && JSON.stringify(decodeCommand(m).args).includes('NetStream.Publish.Start'),
      ),
    );
  }

  /**
   * Sets the chunk size to `sent`, then opens `streams` chunk streams (3, 4, …), each with a message of
   * `sent + 1` bytes whose first chunk is all it gets: each stays unfinished. Stops early when the
   * server closes the connection.
   */
  async holdPartialMessages(streams: number, sent: number): Promise<number> {
    this.send(setChunkSize(sent));
    let written = 0;
    const body = Buffer.alloc(sent, 0x55);
    for (let i = 0; i < streams && !this.isClosed; i++) {
      const csid = 3 + i;
      // Basic header (5.3.1.1): fmt 0, then the id in 6 bits, or 0 and the id - 64 in one byte.
      const basic = csid < 64 ? Buffer.from([csid]) : Buffer.from([0, csid - 64]);
      const h = Buffer.alloc(11);
      h.writeUIntBE(sent + 1, 3, 3);
      h[6] = 9; // video
      h.writeUInt32LE(1, 7);
      const ok = this.socket.write(Buffer.concat([basic, h, body]));
      written += sent;
      if (!ok) await Promise.race([new Promise((r) => this.socket.once('drain', r)), this.closed]);
    }
    return written;
  }

  /** Starts a message of `length` bytes and sends one byte of it every `everyMs`. */
  trickle(length: number, everyMs: number): NodeJS.Timeout {
    const h = Buffer.alloc(12);
    h[0] = 6;
    h.writeUIntBE(length, 4, 3);
    h[7] = 9;
    h.writeUInt32LE(1, 8);
    this.socket.write(h);
    return setInterval(() => {
      if (!this.isClosed) this.socket.write(Buffer.from([0]));
    }, everyMs);
  }
}

describe('RTMP per-connection limits', { timeout: 90_000 }, () => {
  let server: ServerProcess;
  let publisher: Running | undefined;
  let viewer: Awaited<ReturnType<typeof httpGetStream>> | undefined;
  let viewerBytes = 0;

  before(async () => {
    server = await startServerProcess({
      idleTimeoutMs: IDLE_MS,
      record: { flv: false, hls: false, mp4: false },
    });
    if (!tools.ffmpeg) return;
    const good = `rtmp://127.0.0.1:${server.ports.rtmp}/live/good`;
    publisher = start(tools.ffmpeg, publishArgs(fixture('h264-aac-bframes-10s.flv'), good, true), 60_000);
    await until('the good stream to play', async () => {
      const res = await httpGetStream(`http://127.0.0.1:${server.ports.http}/live/good.flv`);
      if (res.status === 200) viewer = res;
      else res.destroy();
      return res.status === 200;
    });
    viewer!.onData((c) => {
      viewerBytes += c.length;
    });
  });

  after(async () => {
    viewer?.destroy();
    publisher?.child.kill('SIGKILL');
    await publisher?.done;
    await server?.stop();
  });

  /** The reason the server logged for closing `c` (the line may come a moment after the close). */
  async function closeReason(c: RawRtmp): Promise<string> {
    const find = () => server.logs().find((l) => l.msg === 'closed' && l.remote === c.remote);
    await until(`the close of ${c.remote} to be logged`, () => find() !== undefined, 3000).catch(() => {});
    return String(find()?.reason ?? '(no close logged)');
  }

  async function goodStreamGoesOn(): Promise<void> {
    const before = viewerBytes;
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(server.alive(), 'the server died');
    assert.ok(viewerBytes > before, 'the good viewer stopped receiving');
  }

  test('before connect: 3 connections × 63 chunk streams of 8 MiB - 1 are closed at once', async (t) => {
    if (!requireTool(t, 'ffmpeg')) return;
    const rss0 = server.rss();
    const clients = await Promise.all([0, 1, 2].map(() => RawRtmp.open(server.ports.rtmp)));
    // Up to 24 MiB each (the report's 504 MiB would take the test too long on the old code).
    const sent = await Promise.all(clients.map((c) => c.holdPartialMessages(3, 8 * MB - 2)));
    // Well before the idle timeout (2 s), which would close them anyway.
    await Promise.all(clients.map((c) => Promise.race([c.closed, new Promise((r) => setTimeout(r, 1000))])));
    for (const c of clients) {
      assert.ok(c.isClosed, `a connection holding ${sent[0]} bytes of unfinished messages is still open`);
      assert.match(
        await closeReason(c),
        /ERR_RTMP_CHUNK: message of 8388607 bytes .* exceeds 65536 before a publish starts/,
      );
    }
    // Small messages on many chunk streams add up to the same budget.
    const many = await RawRtmp.open(server.ports.rtmp);
    await many.holdPartialMessages(63, 60 * 1024);
    await Promise.race([many.closed, new Promise((r) => setTimeout(r, 1000))]);
    assert.ok(many.isClosed, '63 unfinished 60 KiB messages were accepted before connect');
    assert.match(
      await closeReason(many),
      /unfinished messages would hold \d+ bytes .* over the limit of 65536/,
    );
    const grown = server.rss() - rss0;
    if (process.env.ESTUARY_TEST_REPORT) console.log(`RSS grew by ${(grown / MB).toFixed(1)} MiB`);
    assert.ok(grown < 40 * MB, `RSS grew by ${(grown / MB).toFixed(0)} MiB`);
    await goodStreamGoesOn();
  });

  test('after publish: unfinished messages are bounded to maxMessageBytes + 1 MiB in total', async (t) => {
    if (!requireTool(t, 'ffmpeg')) return;
    const rss0 = server.rss();
    const c = await RawRtmp.open(server.ports.rtmp);
    await c.publish('flood');
    const sent = await c.holdPartialMessages(63, MB);
    await Promise.race([c.closed, new Promise((r) => setTimeout(r, 1000))]);
    assert.ok(c.isClosed, `a publisher holding ${sent} bytes of unfinished messages is still open`);
    assert.match(
      await closeReason(c),
      /unfinished messages would hold \d+ bytes .* over the limit of 9437184/,
    );
    const grown = server.rss() - rss0;
    if (process.env.ESTUARY_TEST_REPORT) console.log(`RSS grew by ${(grown / MB).toFixed(1)} MiB`);
    // Up to 9 MiB held, plus the garbage of bodies grown by doubling, until the GC runs.
    assert.ok(grown < 48 * MB, `RSS grew by ${(grown / MB).toFixed(0)} MiB`);
    await goodStreamGoesOn();
  });

  test('the idle timeout counts whole messages: a byte every 250 ms does not keep a connection', async (t) => {
    if (!requireTool(t, 'ffmpeg')) return;
    const idle = await RawRtmp.open(server.ports.rtmp);
    const pub = await RawRtmp.open(server.ports.rtmp);
    await pub.publish('trickle');
    const t0 = Date.now();
    const timers = [idle.trickle(1000, 250), pub.trickle(100_000, 250)];
    try {
      await Promise.race([
        Promise.all([idle.closed, pub.closed]),
        new Promise((r) => setTimeout(r, IDLE_MS * 3)),
      ]);
    } finally {
      for (const timer of timers) clearInterval(timer);
    }
    assert.ok(idle.isClosed, 'a connection trickling bytes before connect is still open');
    assert.ok(pub.isClosed, 'a publisher trickling bytes of a message it never finishes is still open');
    assert.ok(Date.now() - t0 >= IDLE_MS - 100, 'closed before the idle timeout');
    assert.equal(await closeReason(idle), `no publish or play within ${IDLE_MS} ms`);
    assert.equal(
      await closeReason(pub),
      `publisher sent no complete audio, video or data message for ${IDLE_MS} ms`,
    );
    await goodStreamGoesOn();
  });
});
