import type { RtmpMessage } from '../../src/formats/rtmp/message.js';
import { RtmpClient } from '../../src/rtmp/client.js';
import type { ViewStats } from './view-stats.js';
import { BenchViewer, type ViewerOptions } from './viewer.js';

/** FLV file header + PreviousTagSize0 (E.2, E.3): audio and video flags set. */
const FLV_PREAMBLE = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x05, 0, 0, 0, 9, 0, 0, 0, 0]);

/**
 * An RTMP player (src/rtmp/client.ts). Its audio, video and data messages are framed as FLV
 * tags into two reused scratch Buffers, so the same FLV check judges every protocol. The
 * client takes no source address, so RTMP runs stay within one source IP's ephemeral ports
 * (about 28,000 on this kernel's 32768-60999 range).
 */
export class RtmpViewer extends BenchViewer {
  private client: RtmpClient | undefined;
  private readonly tagHeader = Buffer.alloc(11);
  private readonly prevSize = Buffer.alloc(4);

  constructor(url: URL, opts: ViewerOptions, stats: ViewStats, onFinished: (v: BenchViewer) => void) {
    super(opts, stats, onFinished);
    this.check.push(FLV_PREAMBLE);
    RtmpClient.connect(url.href).then(
      async (client) => {
        this.client = client;
        if (this.finished) return client.close('finished');
        this.connectedAt = performance.now();
        client.on('media', (msg: RtmpMessage) => this.onMessage(msg));
        client.on('close', (reason: string) => this.end(`closed: ${reason}`));
        try {
          await client.play();
        } catch (err) {
          this.end(`play: ${(err as Error).message}`);
        }
      },
      (err: Error) => this.end(`connect: ${err.message}`),
    );
  }

  protected disconnect(): void {
    this.client?.close('finished');
  }

  private onMessage(msg: RtmpMessage): void {
    if (this.finished) return;
    const h = this.tagHeader;
    const size = msg.payload.length;
    h[0] = msg.type;
    h.writeUIntBE(size, 1, 3);
    h.writeUIntBE(msg.timestamp & 0xffffff, 4, 3);
    h[7] = (msg.timestamp >>> 24) & 0xff;
    this.onMedia(h, 0, 11);
    this.onMedia(msg.payload, 0, size);
    this.prevSize.writeUInt32BE(11 + size, 0);
    this.onMedia(this.prevSize, 0, 4);
  }
}
