/**
 * HTTP callbacks with the names nginx-rtmp and SRS users know: `on_publish`, `on_unpublish`,
 * `on_play`, `on_stop`, `on_record_done`. Each is a POST of a JSON body (app, stream, client
 * address, protocol, query arguments, ids) to a configured URL.
 *
 * `on_publish` and `on_play` decide: a 2xx lets the client go on, anything else (or no answer in
 * `timeoutMs`) refuses it; a 3xx with a `Location` on `on_publish` renames the stream
 * (nginx-rtmp's convention: the new name is the Location's last path part, or `app/stream`).
 * The others are notifications: sent in the background with a few retries, never in the way.
 */
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { EstuaryError, errorMessage } from '../errors.js';

export type CallbackEvent = 'on_publish' | 'on_unpublish' | 'on_play' | 'on_stop' | 'on_record_done';

export interface CallbackUrls {
  readonly onPublish?: string;
  readonly onUnpublish?: string;
  readonly onPlay?: string;
  readonly onStop?: string;
  readonly onRecordDone?: string;
}

export interface CallbackBody {
  readonly app: string;
  readonly stream: string;
  /** The client's address. */
  readonly addr: string;
  readonly protocol: string;
  /** The URL's query parameters as given (the callback server is trusted with them). */
  readonly args: Readonly<Record<string, string>>;
  /** The connection's id in this server's logs. */
  readonly clientId: string;
  /** Extra fields of one event (on_record_done: the files). */
  readonly [extra: string]: unknown;
}

export interface CallbackOptions {
  /** How long a deciding callback may take (default 3 s). */
  readonly timeoutMs: number;
  /** Retries of a notification that failed (default 3), 1 s, 2 s, 4 s apart. */
  readonly retries: number;
}

/** What `on_publish` decided: go on, possibly under another name (`app/stream`). */
export interface PublishVerdict {
  readonly rename?: { app: string; stream: string };
}

const URL_OF: Record<CallbackEvent, keyof CallbackUrls> = {
  on_publish: 'onPublish',
  on_unpublish: 'onUnpublish',
  on_play: 'onPlay',
  on_stop: 'onStop',
  on_record_done: 'onRecordDone',
};

interface Answer {
  status: number;
  location?: string;
}

/** One POST; resolves with the status (the body is read and dropped), rejects on no answer. */
function post(url: string, body: unknown, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      // Not quoted: a callback URL may carry the callback server's token.
      reject(new EstuaryError('ERR_CONFIG', 'a callback URL is not a URL'));
      return;
    }
    const data = Buffer.from(JSON.stringify(body));
    const req = (u.protocol === 'https:' ? httpsRequest : request)(u, {
      method: 'POST',
      agent: false,
      timeout: timeoutMs,
      headers: { 'Content-Type': 'application/json', 'Content-Length': data.length, 'User-Agent': 'Estuary' },
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('response', (res) => {
      res.resume();
      clearTimeout(timer);
      const location = res.headers.location;
      resolve({ status: res.statusCode ?? 0, location: typeof location === 'string' ? location : undefined });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(data);
  });
}

/** The new stream name a 3xx Location names: `…/app/stream`, `app/stream` or just `stream`. */
function renameFrom(location: string, app: string): { app: string; stream: string } {
  let path = location;
  try {
    const u = new URL(location, 'http://x/');
    if (u.protocol === 'rtmp:') {
      throw new EstuaryError(
        'ERR_AUTH',
        'on_publish redirected to an rtmp:// URL; relaying to another server is not supported',
      );
    }
    path = u.pathname;
  } catch (err) {
    if (err instanceof EstuaryError) throw err;
  }
  const parts = path.split('/').filter((p) => p.length > 0);
  if (parts.length >= 2) return { app: parts.at(-2)!, stream: parts.at(-1)! };
  if (parts.length === 1) return { app, stream: parts[0]! };
  throw new EstuaryError('ERR_AUTH', 'on_publish redirected without a stream name in Location');
}

export class HttpCallbacks {
  /** Notifications sent and not yet settled (tests and shutdown wait on them). */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly urls: CallbackUrls,
    private readonly opts: CallbackOptions,
    private readonly onFailure: (event: CallbackEvent, why: string) => void = () => {},
  ) {}

  has(event: CallbackEvent): boolean {
    return this.urls[URL_OF[event]] !== undefined;
  }

  /** `on_publish`: resolves with the verdict, rejects with ERR_AUTH saying why it refused. */
  async publish(body: CallbackBody): Promise<PublishVerdict> {
    const url = this.urls.onPublish;
    if (!url) return {};
    const a = await this.decide('on_publish', url, body);
    if (a.status >= 300 && a.status < 400 && a.location) return { rename: renameFrom(a.location, body.app) };
    return {};
  }

  /** `on_play`: resolves when allowed, rejects with ERR_AUTH saying why it refused. */
  async play(body: CallbackBody): Promise<void> {
    const url = this.urls.onPlay;
    if (url) await this.decide('on_play', url, body);
  }

  /** A notification (`on_unpublish`, `on_stop`, `on_record_done`): in the background, retried. */
  notify(event: 'on_unpublish' | 'on_stop' | 'on_record_done', body: CallbackBody): void {
    const url = this.urls[URL_OF[event]];
    if (!url) return;
    const p = this.deliver(event, url, body).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Resolves once every notification sent so far has been delivered or given up. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async decide(event: CallbackEvent, url: string, body: CallbackBody): Promise<Answer> {
    let a: Answer;
    try {
      a = await post(url, { action: event, ...body }, this.opts.timeoutMs);
    } catch (err) {
      throw new EstuaryError('ERR_AUTH', `${event} callback failed: ${errorMessage(err)}`);
    }
    const ok =
      (a.status >= 200 && a.status < 300) || (event === 'on_publish' && a.status >= 300 && a.status < 400);
    if (!ok) throw new EstuaryError('ERR_AUTH', `${event} callback refused (HTTP ${a.status})`);
    return a;
  }

  private async deliver(event: CallbackEvent, url: string, body: CallbackBody): Promise<void> {
    let why = '';
    for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
      // Unref'd: a retry never keeps a stopping process alive (the server's stop waits a bounded time).
      if (attempt > 0) await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 1)).unref());
      try {
        const a = await post(url, { action: event, ...body }, this.opts.timeoutMs);
        if (a.status >= 200 && a.status < 300) return;
        why = `HTTP ${a.status}`;
      } catch (err) {
        why = errorMessage(err);
      }
    }
    this.onFailure(event, `${why} (after ${this.opts.retries + 1} attempts)`);
  }
}
