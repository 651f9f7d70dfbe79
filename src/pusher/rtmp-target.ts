/** RTMP publish with our own client: connect, createStream, publish, then audio/video/data messages. */
import { errorMessage, isEstuaryError } from '../errors.js';
import { encodeAmf0 } from '../formats/amf/amf0.js';
import { FlvTagType } from '../formats/flv/tag.js';
import { parseRtmpUrl, RtmpClient } from '../rtmp/client.js';
import { PushError } from './push-error.js';
import { connectFailure, lossSignal, type PushTarget, type TargetOptions } from './target.js';

/**
 * RTMP publishers send metadata as @setDataFrame("onMetaData", {...}) (what FMLE, OBS and FFmpeg
 * send; the server stores what follows the first string), while an FLV file's script tag starts
 * at "onMetaData".
 */
const SET_DATA_FRAME = encodeAmf0('@setDataFrame');

export async function openRtmpTarget(url: string, opts: TargetOptions = {}): Promise<PushTarget> {
  try {
    parseRtmpUrl(url);
  } catch (err) {
    throw new PushError('usage', isEstuaryError(err) ? err.message : String(err));
  }
  let client: RtmpClient;
  try {
    client = await RtmpClient.connect(url, opts.connectTimeoutMs ?? 10_000);
  } catch (err) {
    if (isEstuaryError(err, 'ERR_RTMP_REFUSED')) {
      throw new PushError('publish-refused', `${url}: ${err.message}`, { cause: err });
    }
    throw connectFailure(url, err);
  }
  try {
    await client.publish();
  } catch (err) {
    client.close('publish failed');
    if (isEstuaryError(err, 'ERR_RTMP_REFUSED')) {
      throw new PushError('publish-refused', `${url}: ${err.message}`, { cause: err });
    }
    throw new PushError('connection-lost', `${url}: publish failed: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  return new RtmpTarget(url, client);
}

class RtmpTarget implements PushTarget {
  readonly description: string;
  readonly lost: Promise<PushError>;
  private ours = false;
  private closeReason = '';

  constructor(
    url: string,
    private readonly client: RtmpClient,
  ) {
    this.description = `RTMP ${url}`;
    const { lost, report } = lossSignal();
    this.lost = lost;
    client.once('close', (reason: string) => {
      this.closeReason = reason;
      if (!this.ours) report(this.lostError());
    });
  }

  private lostError(): PushError {
    return new PushError('connection-lost', `${this.description}: connection lost (${this.closeReason})`);
  }

  async send(type: number, timestamp: number, body: Buffer): Promise<void> {
    if (this.client.isClosed) throw this.lostError();
    const payload = type === FlvTagType.Script ? Buffer.concat([SET_DATA_FRAME, body]) : body;
    if (!this.client.writeMedia(type, timestamp, payload)) await this.client.drained();
    if (this.client.isClosed) throw this.lostError();
  }

  async finish(): Promise<void> {
    if (this.client.isClosed) throw this.lostError();
    this.ours = true;
    await this.client.end();
  }

  destroy(): void {
    this.ours = true;
    this.client.close('closed by the pusher');
  }
}
