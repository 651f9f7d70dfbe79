/**
 * Picks the target by URL scheme: http(s):// → HTTP-FLV POST, ws(s):// → WebSocket-FLV,
 * rtmp:// → RTMP publish.
 */
import { openHttpFlvTarget } from './http-flv-target.js';
import { PushError } from './push-error.js';
import { openRtmpTarget } from './rtmp-target.js';
import type { PushTarget, TargetOptions } from './target.js';
import { openWsFlvTarget } from './ws-flv-target.js';

export function openTarget(url: string, opts?: TargetOptions): Promise<PushTarget> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'http':
    case 'https':
      return openHttpFlvTarget(url, opts);
    case 'ws':
    case 'wss':
      return openWsFlvTarget(url, opts);
    case 'rtmp':
      return openRtmpTarget(url, opts);
    default:
      return Promise.reject(
        new PushError(
          'usage',
          `unsupported URL ${url}: use rtmp://HOST/{app}/{stream}, http://HOST/{app}/{stream} or ws://HOST/{app}/{stream}`,
        ),
      );
  }
}
