import { request } from 'node:http';
import { RtmpClient } from '../../src/rtmp/client.js';

/**
 * Resolves once the stream plays: an HTTP-FLV GET answers 200 with data, or (no HTTP-FLV, as
 * with nginx-rtmp) an RTMP play delivers a video message. Rejects after `timeoutMs`.
 */
export async function waitForStream(
  httpUrl: string | undefined,
  rtmpUrl: string,
  timeoutMs = 20_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = httpUrl ? await probeHttp(httpUrl) : await probeRtmp(rtmpUrl);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the stream did not go live within ${timeoutMs} ms`);
}

function probeHttp(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        resolve(false);
        return;
      }
      res.once('data', () => {
        req.destroy();
        resolve(true);
      });
    });
    req.setTimeout(3000, () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function probeRtmp(url: string): Promise<boolean> {
  let client: RtmpClient | undefined;
  try {
    client = await RtmpClient.connect(url, 3000);
    const c = client;
    const got = new Promise<boolean>((resolve) => {
      c.on('media', (m: { type: number }) => {
        if (m.type === 9) resolve(true);
      });
      c.on('close', () => resolve(false));
      setTimeout(() => resolve(false), 4000);
    });
    await c.play();
    return await got;
  } catch {
    return false;
  } finally {
    client?.close('probe done');
  }
}
