/**
 * A small router for the HTTP ports: method + path pattern → handler. The origin's web port, the
 * file gateway and the pages each mount their parts on one; the static-file handler is one such
 * part. Patterns are `/`-separated segments: a literal, `:name` (one non-empty segment, given to
 * the handler decoded) or a final `*` (the rest of the path, possibly empty, as written).
 *
 * What every route gets for free: HEAD wherever GET is routed, a 204 answer to CORS preflights
 * (OPTIONS) on every path, 405 with `Allow` for a known path and another method, 404 otherwise,
 * and a handler that throws or rejects costs that request a 500 and one log line, never the
 * process and never a stack trace to the client. Those answers are plain text, or whatever
 * `errorsAs` sets for a prefix (the JSON API answers its errors in JSON).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import { CORS_HEADERS, sendError } from './respond.js';

export type RouteParams = Readonly<Record<string, string>>;
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, params: RouteParams) => unknown;

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/** How the router's own answers (404, 405, 500) are written under a prefix. */
export type ErrorReply = (res: ServerResponse, status: number, message: string) => void;

interface ErrorStyle {
  readonly segments: readonly string[];
  readonly reply: ErrorReply;
}

interface Route {
  readonly methods: ReadonlySet<string>;
  readonly segments: readonly string[];
  readonly handler: RouteHandler;
}

export class Router {
  private readonly routes: Route[] = [];
  private readonly errorStyles: ErrorStyle[] = [];

  get(pattern: string, handler: RouteHandler): this {
    return this.on(['GET'], pattern, handler);
  }

  post(pattern: string, handler: RouteHandler): this {
    return this.on(['POST'], pattern, handler);
  }

  delete(pattern: string, handler: RouteHandler): this {
    return this.on(['DELETE'], pattern, handler);
  }

  on(methods: readonly Method[], pattern: string, handler: RouteHandler): this {
    const set = new Set<string>(methods);
    if (set.has('GET')) set.add('HEAD');
    const segments = split(pattern);
    const star = segments.indexOf('*');
    if (star >= 0 && star !== segments.length - 1)
      throw new Error(`router: '*' must end the pattern: ${pattern}`);
    this.routes.push({ methods: set, segments, handler });
    return this;
  }

  /** Every route of `other` under `prefix` (`/api` + `/streams` → `/api/streams`). */
  mount(prefix: string, other: Router): this {
    const pre = split(prefix);
    for (const r of other.routes) this.routes.push({ ...r, segments: [...pre, ...r.segments] });
    for (const e of other.errorStyles) this.errorStyles.push({ ...e, segments: [...pre, ...e.segments] });
    return this;
  }

  /** The router's 404, 405 and 500 under `prefix` are written by `reply` (the longest prefix wins). */
  errorsAs(prefix: string, reply: ErrorReply): this {
    this.errorStyles.push({ segments: split(prefix), reply });
    return this;
  }

  /** Answers the request; `log` gets one line for a handler that failed. */
  handle(req: IncomingMessage, res: ServerResponse, log: Logger): void {
    const method = req.method ?? 'GET';
    const rawPath = (req.url ?? '/').split('?', 1)[0]!;
    if (method === 'OPTIONS') {
      res.writeHead(204, { ...CORS_HEADERS, 'Access-Control-Max-Age': '86400', 'Content-Length': 0 });
      res.end();
      return;
    }
    const path = split(rawPath);
    const allowed = new Set<string>();
    for (const r of this.routes) {
      const params = match(r.segments, path);
      if (!params) continue;
      if (!r.methods.has(method)) {
        for (const m of r.methods) allowed.add(m);
        continue;
      }
      this.run(r, req, res, params, log, rawPath);
      return;
    }
    const reply = this.errorReply(path);
    if (allowed.size === 0) {
      reply(res, 404, `not found: ${rawPath.slice(0, 200)}`);
      return;
    }
    res.setHeader('Allow', [...allowed, 'OPTIONS'].join(', '));
    reply(res, 405, `${method} is not allowed here (allowed: ${[...allowed].join(', ')})`);
  }

  private errorReply(path: readonly string[]): ErrorReply {
    let best: ErrorStyle | undefined;
    for (const e of this.errorStyles) {
      if (e.segments.length > path.length || (best && best.segments.length >= e.segments.length)) continue;
      if (e.segments.every((s, i) => s === path[i])) best = e;
    }
    return best?.reply ?? sendError;
  }

  private run(
    r: Route,
    req: IncomingMessage,
    res: ServerResponse,
    params: RouteParams,
    log: Logger,
    rawPath: string,
  ): void {
    const fail = (err: unknown) => {
      log.warn(
        { method: req.method, path: rawPath.slice(0, 200), reason: describeError(err) },
        'request failed',
      );
      if (!res.headersSent) this.errorReply(split(rawPath))(res, 500, 'internal error');
      else res.destroy();
    };
    try {
      const out = r.handler(req, res, params);
      if (out instanceof Promise) out.catch(fail);
    } catch (err) {
      fail(err);
    }
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

/** The params of `path` under `pattern`, or undefined when it does not match. */
function match(pattern: readonly string[], path: readonly string[]): RouteParams | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '*') {
      params['*'] = path.slice(i).join('/');
      return params;
    }
    const seg = path[i];
    if (seg === undefined) return undefined;
    if (p.startsWith(':')) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(seg);
      } catch {
        return undefined;
      }
      params[p.slice(1)] = decoded;
    } else if (p !== seg) {
      return undefined;
    }
  }
  return pattern.length === path.length ? params : undefined;
}
