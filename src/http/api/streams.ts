/**
 * `/api/streams`: the live streams (GET), one stream (GET `/api/streams/{app}/{stream}`) and
 * ending a publish (DELETE, with the admin token). Shapes: stream-info.ts and the README.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { LiveStream } from '../../hub/live-stream.js';
import type { StreamHub } from '../../hub/stream-hub.js';
import { sendJson, sendJsonError } from '../respond.js';
import { Router } from '../router.js';
import { type StreamInfo, streamInfo } from './stream-info.js';
import type { StreamStats } from './stream-stats.js';

export interface StreamsApiOptions {
  readonly hub: StreamHub;
  readonly stats: StreamStats;
  readonly log: Logger;
  /** The admin token DELETE needs; undefined: the admin API is off. */
  readonly adminToken: string | undefined;
  /**
   * With workers: GET /api/streams answers the sum over every worker (the primary gathers each
   * one's `listStreams`), given the request's query string.
   */
  readonly gather?: (query: string) => Promise<{ streams: StreamInfo[] }>;
  /**
   * With workers: ends the publish of `path` on whichever worker holds it (DELETE reaching a
   * worker that only relays the stream); undefined when no worker publishes it.
   */
  readonly endElsewhere?: (path: string) => Promise<{ ended: boolean } | undefined>;
}

/** The live streams of one hub, as GET /api/streams lists them. */
export function listStreams(hub: StreamHub, stats: StreamStats, history: boolean): StreamInfo[] {
  return hub
    .list()
    .filter((s) => s.isLive)
    .sort((a, b) => a.path.localeCompare(b.path))
    .map((s) => streamInfo(s, stats, history));
}

/** How long DELETE waits for the kicked publisher's connection to close before it answers. */
const KICK_WAIT_MS = 2000;

export function streamsApi(opts: StreamsApiOptions): Router {
  const live = (app: string, stream: string): LiveStream | undefined => {
    const s = opts.hub.get(`${app}/${stream}`);
    return s?.isLive ? s : undefined;
  };
  const notLive = (res: ServerResponse, app: string, stream: string) =>
    sendJsonError(res, 404, 'ERR_STREAM_NOT_FOUND', `stream ${app}/${stream} is not being published`);
  return new Router()
    .get('/streams', async (req, res) => {
      const query = (req.url ?? '').split('?')[1] ?? '';
      if (opts.gather) return sendJson(res, 200, await opts.gather(query));
      const history = new URLSearchParams(query).get('history') === '1';
      sendJson(res, 200, { streams: listStreams(opts.hub, opts.stats, history) });
    })
    .get('/streams/:app/:stream', async (_req, res, p) => {
      if (opts.gather) {
        const one = (await opts.gather('history=1')).streams.find((x) => x.path === `${p.app}/${p.stream}`);
        return one ? sendJson(res, 200, one) : notLive(res, p.app!, p.stream!);
      }
      const s = live(p.app!, p.stream!);
      if (!s) return notLive(res, p.app!, p.stream!);
      sendJson(res, 200, streamInfo(s, opts.stats, true));
    })
    .delete('/streams/:app/:stream', async (req, res, p) => {
      if (!authorized(req, res, opts.adminToken)) return;
      const s = live(p.app!, p.stream!);
      const publisher = s?.publisher;
      if (opts.endElsewhere && (!publisher || publisher.relay)) {
        // Published on another worker (a relay here is only its copy): ended there.
        const path = `${p.app}/${p.stream}`;
        const r = await opts.endElsewhere(path);
        if (!r) return notLive(res, p.app!, p.stream!);
        opts.log.info({ path }, 'publish ended through the admin API (on the worker that holds it)');
        return sendJson(res, 200, { stream: path, ended: r.ended });
      }
      if (!s || !publisher) return notLive(res, p.app!, p.stream!);
      opts.log.info({ path: s.path, protocol: publisher.protocol }, 'publish ended through the admin API');
      publisher.kick('publish ended through the admin API');
      const deadline = Date.now() + KICK_WAIT_MS;
      while (s.publisher === publisher && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      sendJson(res, 200, { stream: s.path, ended: s.publisher !== publisher });
    });
}

/**
 * `Authorization: Bearer TOKEN` against the configured token, compared in constant time (both
 * hashed first, so neither the content nor the length of the token leaks through timing).
 * Answers 401/403 itself and returns false when the request may not go on.
 */
function authorized(req: IncomingMessage, res: ServerResponse, token: string | undefined): boolean {
  if (token === undefined) {
    sendJsonError(
      res,
      403,
      'ERR_ADMIN_TOKEN',
      'the admin API is off: set adminToken (--admin-token) to use it',
    );
    return false;
  }
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
  const digest = (s: string) => createHash('sha256').update(s).digest();
  if (!m || !timingSafeEqual(digest(m[1]!), digest(token))) {
    res.setHeader('WWW-Authenticate', m ? 'Bearer error="invalid_token"' : 'Bearer');
    sendJsonError(
      res,
      401,
      'ERR_ADMIN_TOKEN',
      m ? 'the admin token is wrong' : 'this call needs the admin token: Authorization: Bearer TOKEN',
    );
    return false;
  }
  return true;
}
