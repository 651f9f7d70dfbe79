/**
 * Who may publish and play what: address lists per app (CIDR, allow and deny), static stream keys
 * per app or per stream, and signed URLs (`?sign=`, HMAC-SHA256 as `estuary sign` prints it, and
 * Node-Media-Server's MD5 form for users migrating from it). Pure: a request in, nothing or an
 * ERR_AUTH saying why out. Every comparison of a credential is constant-time, and no credential
 * or query string is ever part of a message.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { EstuaryError } from '../errors.js';
import type { StreamName } from '../hub/stream-name.js';
import { verifySignedPath } from './sign.js';

export type AccessAction = 'publish' | 'play';

export interface AccessRequest {
  readonly action: AccessAction;
  readonly name: StreamName;
  /** The URL's query string (`?…` or empty): where credentials travel. */
  readonly query: string;
  /** The client's IP address (IPv4, IPv6 or IPv4-mapped IPv6). */
  readonly address: string;
}

export interface AccessRules {
  /** HMAC secret of signed URLs; publishing needs a signature when set. */
  readonly secret?: string;
  /** Playing needs a signature too (with `secret`). */
  readonly signPlay?: boolean;
  /** Also accept Node-Media-Server's `sign={expires}-{md5hex}` form (weaker: MD5). */
  readonly nmsMd5?: boolean;
  /** Static publish keys: `app` or `app/stream` → key (a stream's own key wins over its app's). */
  readonly keys?: Readonly<Record<string, string>>;
  /** Static play keys, the same way (a viewer's key is not the publisher's). */
  readonly playKeys?: Readonly<Record<string, string>>;
  /** Address lists per app (`*` for every app): CIDR blocks or single addresses. */
  readonly publishAllow?: Readonly<Record<string, readonly string[]>>;
  readonly publishDeny?: Readonly<Record<string, readonly string[]>>;
  readonly playAllow?: Readonly<Record<string, readonly string[]>>;
  readonly playDeny?: Readonly<Record<string, readonly string[]>>;
}

/** Node-Media-Server's `sign=`: decimal seconds, a dash, 32 lowercase hex digits (an MD5). */
const NMS_SIGN = /^(0|[1-9]\d{0,11})-([0-9a-f]{32})$/;

/** The query parameters a static key may come in (the seed's `key`, OBS users' `streamKey`, `secret`). */
const KEY_PARAMS = ['key', 'streamKey', 'secret'] as const;

/** A CIDR list as Node's BlockList, which handles IPv4, IPv6 and IPv4-mapped addresses. */
function blockList(entries: readonly string[], what: string): BlockList {
  const list = new BlockList();
  for (const raw of entries) {
    const [addr, bits] = raw.trim().split('/') as [string, string | undefined];
    const family = isIP(addr);
    if (family === 0)
      throw new EstuaryError('ERR_CONFIG', `${what}: "${raw}" is not an address or CIDR block`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else {
      const prefix = Number(bits);
      if (!/^\d+$/.test(bits) || prefix > (family === 6 ? 128 : 32)) {
        throw new EstuaryError('ERR_CONFIG', `${what}: "${raw}" has a bad prefix length`);
      }
      list.addSubnet(addr, prefix, type);
    }
  }
  return list;
}

function matches(list: BlockList, address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const plain = mapped ? mapped[1]! : address;
  const family = isIP(plain);
  if (family === 0) return false;
  return list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
}

function constantTimeEqual(a: string, b: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths (timingSafeEqual needs equal lengths).
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

type Lists = { allow: Map<string, BlockList>; deny: Map<string, BlockList> };

export class AccessPolicy {
  private readonly lists: Record<AccessAction, Lists>;

  /** Throws ERR_CONFIG for an address list it cannot read. */
  constructor(private readonly rules: AccessRules) {
    const compile = (m: Readonly<Record<string, readonly string[]>> | undefined, what: string) =>
      new Map(Object.entries(m ?? {}).map(([app, l]) => [app, blockList(l, `${what}.${app}`)]));
    this.lists = {
      publish: {
        allow: compile(rules.publishAllow, 'publishAllow'),
        deny: compile(rules.publishDeny, 'publishDeny'),
      },
      play: { allow: compile(rules.playAllow, 'playAllow'), deny: compile(rules.playDeny, 'playDeny') },
    };
  }

  /** Whether any rule applies to `action` at all (lets the fast path skip the checks). */
  guards(action: AccessAction): boolean {
    const r = this.rules;
    const l = this.lists[action];
    return (
      l.allow.size > 0 ||
      l.deny.size > 0 ||
      Object.keys(this.keysOf(action)).length > 0 ||
      (r.secret !== undefined && (action === 'publish' || r.signPlay === true))
    );
  }

  private keysOf(action: AccessAction): Readonly<Record<string, string>> {
    return (action === 'publish' ? this.rules.keys : this.rules.playKeys) ?? {};
  }

  /**
   * Throws ERR_AUTH_REQUIRED when `req` brings no credentials it needs, ERR_AUTH saying why when
   * what it brings (or where it comes from) is not good.
   */
  check(req: AccessRequest): void {
    this.checkAddress(req);
    this.checkCredentials(req);
  }

  private checkAddress(req: AccessRequest): void {
    const { allow, deny } = this.lists[req.action];
    const app = req.name.app;
    for (const key of [app, '*']) {
      const d = deny.get(key);
      if (d && matches(d, req.address)) {
        throw new EstuaryError('ERR_AUTH', `${req.action} of ${req.name.path} is denied from this address`);
      }
    }
    const lists = [allow.get(app), allow.get('*')].filter((l): l is BlockList => l !== undefined);
    if (lists.length > 0 && !lists.some((l) => matches(l, req.address))) {
      throw new EstuaryError(
        'ERR_AUTH',
        `${req.action} of ${req.name.path} is not allowed from this address`,
      );
    }
  }

  private checkCredentials(req: AccessRequest): void {
    const r = this.rules;
    const keys = this.keysOf(req.action);
    const key = keys[req.name.path] ?? keys[req.name.app];
    const needsSign = r.secret !== undefined && (req.action === 'publish' || r.signPlay === true);
    if (key === undefined && !needsSign) return;
    const params = new URLSearchParams(req.query.startsWith('?') ? req.query.slice(1) : req.query);
    if (key !== undefined) {
      const given = KEY_PARAMS.map((p) => params.get(p)).find((v) => v !== null);
      if (given !== undefined && given !== null && constantTimeEqual(given, key)) return;
      if (!needsSign) {
        if (given === undefined || given === null) {
          throw new EstuaryError(
            'ERR_AUTH_REQUIRED',
            `${req.action} of ${req.name.path} needs its stream key (?key=…)`,
          );
        }
        throw new EstuaryError('ERR_AUTH', `the stream key for ${req.name.path} is wrong`);
      }
    }
    const path = `/${req.name.path}`;
    const now = Math.floor(Date.now() / 1000);
    const sign = params.get('sign');
    if (r.nmsMd5 && sign && NMS_SIGN.test(sign)) return this.checkNmsSign(sign, path, now);
    verifySignedPath(path, req.query, r.secret!, now, req.action);
  }

  /**
   * Node-Media-Server's form: `sign={expires}-{md5hex}`, md5 of `/{app}/{stream}-{expires}-{secret}`
   * (its auth.js). Accepted only when configured: MD5 is weaker than the HMAC-SHA256 of `estuary sign`.
   */
  private checkNmsSign(sign: string, path: string, now: number): void {
    const m = NMS_SIGN.exec(sign)!;
    const expires = Number(m[1]);
    if (expires < now) throw new EstuaryError('ERR_AUTH', `the signature for ${path} expired`);
    const want = createHash('md5').update(`${path}-${expires}-${this.rules.secret}`).digest();
    if (!timingSafeEqual(want, Buffer.from(m[2]!, 'hex'))) {
      throw new EstuaryError('ERR_AUTH', `the signature for ${path} is wrong`);
    }
  }
}
