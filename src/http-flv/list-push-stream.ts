/**
 * The seed's stream list on the live port: `GET /api?name=listPushStream` answers the JSON array
 * of publishers (stream-info.ts `PushStreamInfo`, documented in the README); another `name` is a
 * 404 with a JSON error. The web port's /api/streams tells more; this keeps the seed's call.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pushStreamInfo } from '../http/api/stream-info.js';
import type { StreamStats } from '../http/api/stream-stats.js';
import { sendJson, sendJsonError } from '../http/respond.js';
import type { StreamHub } from '../hub/stream-hub.js';

export type LiveApiHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function listPushStreamApi(hub: StreamHub, stats: StreamStats): LiveApiHandler {
  return (req, res) => {
    const name = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('name');
    if (name !== 'listPushStream') {
      const shown = name === null ? 'no name' : `name "${name.slice(0, 64)}"`;
      sendJsonError(res, 404, 'ERR_NOT_FOUND', `unknown API call (${shown}); known: name=listPushStream`);
      return;
    }
    const list = hub
      .list()
      .filter((s) => s.isLive)
      .sort((a, b) => a.path.localeCompare(b.path))
      .map((s) => pushStreamInfo(s, stats));
    sendJson(res, 200, list);
  };
}
