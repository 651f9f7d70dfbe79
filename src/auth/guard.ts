/**
 * The access rules and HTTP callbacks of one server, wired into its admission chain and its
 * hub: the rules (access-policy.ts) as a step that answers at once, the deciding callbacks
 * (`on_publish`, `on_play`) as a step that answers later, and the notifications (`on_unpublish`
 * when a publish ends, `on_stop` when a viewer's connection closes, `on_record_done` when a
 * recording is complete) as hooks. With nothing configured nothing is added: the admission stays
 * empty and immediate.
 *
 * What reaches the log: the event, the stream, the protocol and why something failed — never a
 * query string, key, signature or callback URL (the URLs may carry the callback server's token).
 */
import type { Logger } from 'pino';
import { EstuaryError } from '../errors.js';
import type { Admission, AdmissionRequest } from '../hub/admission.js';
import type { LiveStream } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import { makeStreamName, type StreamName } from '../hub/stream-name.js';
import type { RecordingDone } from '../record/recording-manager.js';
import { AccessPolicy } from './access-policy.js';
import { type CallbackBody, type CallbackUrls, HttpCallbacks } from './callbacks.js';

/** The settings this reads (schema.ts): the origin has them all, an edge the play callbacks. */
export interface GuardSettings {
  readonly authSecret?: string;
  readonly authPlay?: boolean;
  readonly authNmsMd5?: boolean;
  readonly authKeys?: Readonly<Record<string, string>>;
  readonly authPlayKeys?: Readonly<Record<string, string>>;
  readonly authPublishAllow?: Readonly<Record<string, readonly string[]>>;
  readonly authPublishDeny?: Readonly<Record<string, readonly string[]>>;
  readonly authPlayAllow?: Readonly<Record<string, readonly string[]>>;
  readonly authPlayDeny?: Readonly<Record<string, readonly string[]>>;
  readonly onPublish?: string;
  readonly onUnpublish?: string;
  readonly onPlay?: string;
  readonly onStop?: string;
  readonly onRecordDone?: string;
  readonly callbackTimeoutMs: number;
  readonly callbackRetries: number;
}

/** How long an admitted publish's callback body waits for the hub to start it (then it is dropped). */
const PENDING_PUBLISH_MS = 10_000;

/** `?a=1&b=2` → `{a: '1', b: '2'}` (what the callback server is sent; never logged). */
function argsOf(query: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(query.startsWith('?') ? query.slice(1) : query));
}

function isHttpUrl(url: string): boolean {
  try {
    return /^https?:$/.test(new URL(url).protocol);
  } catch {
    return false;
  }
}

/** The client's address without the IPv4-mapped prefix (`::ffff:1.2.3.4` → `1.2.3.4`). */
function plainAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

function bodyOf(req: AdmissionRequest, name: StreamName = req.name): CallbackBody {
  return {
    app: name.app,
    stream: name.stream,
    addr: plainAddress(req.address),
    protocol: req.protocol,
    args: argsOf(req.query),
    clientId: req.clientId,
  };
}

export class AccessGuard {
  private policy: AccessPolicy | undefined;
  private callbacks: HttpCallbacks | undefined;
  /** Every callback set ever used (a reload may leave notifications of the old one under way). */
  private readonly allCallbacks = new Set<HttpCallbacks>();
  /** Where install() put the steps, until they are put (a reload may need them later). */
  private target: { admission: Admission; hub: StreamHub } | undefined;
  private installed = false;
  /** Admitted publishes by stream path, until the hub starts them (their body for on_unpublish). */
  private readonly pending = new Map<string, CallbackBody>();
  /** Live publishes' bodies, for on_unpublish. */
  private readonly publishing = new WeakMap<LiveStream, CallbackBody>();

  /** Throws ERR_CONFIG for an address list or a callback URL it cannot take. */
  constructor(
    settings: GuardSettings,
    private readonly log: Logger,
  ) {
    this.use(this.build(settings));
  }

  /**
   * Takes new settings (SIGHUP): the publishes and plays asked from now on go by them; those
   * under way keep what admitted them. Throws ERR_CONFIG, changing nothing, for settings it
   * cannot take.
   */
  reload(settings: GuardSettings): void {
    this.use(this.build(settings));
    this.installNow();
  }

  /**
   * Adds the rules and the callbacks to `admission` and the notifications to `hub`'s events —
   * only once something is configured, so that an unguarded server's admission stays empty.
   */
  install(admission: Admission, hub: StreamHub): void {
    this.target = { admission, hub };
    this.installNow();
  }

  private build(settings: GuardSettings): { policy?: AccessPolicy; callbacks?: HttpCallbacks } {
    const policy = new AccessPolicy({
      secret: settings.authSecret,
      signPlay: settings.authPlay,
      nmsMd5: settings.authNmsMd5,
      keys: settings.authKeys,
      playKeys: settings.authPlayKeys,
      publishAllow: settings.authPublishAllow,
      publishDeny: settings.authPublishDeny,
      playAllow: settings.authPlayAllow,
      playDeny: settings.authPlayDeny,
    });
    const urls: CallbackUrls = {
      onPublish: settings.onPublish,
      onUnpublish: settings.onUnpublish,
      onPlay: settings.onPlay,
      onStop: settings.onStop,
      onRecordDone: settings.onRecordDone,
    };
    for (const [key, url] of Object.entries(urls)) {
      // The URL itself is not quoted: it may carry the callback server's token.
      if (url !== undefined && !isHttpUrl(url)) {
        throw new EstuaryError('ERR_CONFIG', `${key}: not an http:// or https:// URL`);
      }
    }
    const callbacks = Object.values(urls).some((u) => u !== undefined)
      ? new HttpCallbacks(
          urls,
          { timeoutMs: settings.callbackTimeoutMs, retries: settings.callbackRetries },
          (event, why) => this.log.warn({ event, why }, `${event} callback not delivered`),
        )
      : undefined;
    return {
      ...(policy.guards('publish') || policy.guards('play') ? { policy } : {}),
      ...(callbacks ? { callbacks } : {}),
    };
  }

  private use(built: { policy?: AccessPolicy; callbacks?: HttpCallbacks }): void {
    this.policy = built.policy;
    this.callbacks = built.callbacks;
    if (built.callbacks) this.allCallbacks.add(built.callbacks);
  }

  private installNow(): void {
    if (this.installed || !this.target || (!this.policy && !this.callbacks)) return;
    this.installed = true;
    const { admission, hub } = this.target;
    admission.use((req) => this.admit(req));
    hub.addHooks({
      onPublish: (stream) => {
        const body = this.pending.get(stream.path);
        if (!body) return;
        this.pending.delete(stream.path);
        this.publishing.set(stream, body);
      },
      onUnpublish: (stream, reason) => {
        const body = this.publishing.get(stream);
        if (!body) return;
        this.publishing.delete(stream);
        this.callbacks?.notify('on_unpublish', { ...body, reason });
      },
    });
  }

  /** The admission step: the rules at once, then the callbacks (later). */
  private admit(req: AdmissionRequest): StreamName | undefined | Promise<StreamName | undefined> {
    const policy = this.policy;
    if (policy?.guards(req.action)) policy.check(req);
    const cb = this.callbacks;
    return cb ? this.askCallbacks(cb, req) : undefined;
  }

  /**
   * Whether a file of the web port (`/hls/{app}/{stream}/…`) may be read with `query` from
   * `address`: the play rules of its stream. Throws ERR_AUTH / ERR_AUTH_REQUIRED to refuse.
   */
  checkFile(name: StreamName, query: string, address: string): void {
    if (this.policy?.guards('play')) this.policy.check({ action: 'play', name, query, address });
  }

  /** `on_record_done` for a recording complete on disk. */
  recordDone(done: RecordingDone): void {
    this.callbacks?.notify('on_record_done', {
      app: done.stream.name.app,
      stream: done.stream.name.stream,
      addr: '',
      protocol: done.stream.publisher?.protocol ?? '',
      args: {},
      clientId: '',
      recorder: done.kind,
      dir: done.dir,
      files: done.files,
    });
  }

  /** Resolves once every notification sent so far was delivered or given up. */
  async drain(): Promise<void> {
    await Promise.all([...this.allCallbacks].map((c) => c.drain()));
  }

  /** on_publish / on_play (when configured) decide; on_unpublish / on_stop are prepared. */
  private askCallbacks(
    cb: HttpCallbacks,
    req: AdmissionRequest,
  ): StreamName | undefined | Promise<StreamName | undefined> {
    if (req.action === 'play') {
      const watch = () => this.watchViewer(cb, req);
      if (!cb.has('on_play')) return watch();
      // A refusal is logged once, by the protocol that tells its client (its reason names the callback).
      return cb.play(bodyOf(req)).then(watch);
    }
    const admitted = (rename?: StreamName) => {
      if (cb.has('on_unpublish')) this.remember(bodyOf(req, rename ?? req.name), rename ?? req.name);
      return rename;
    };
    if (!cb.has('on_publish')) return admitted();
    return cb.publish(bodyOf(req)).then((verdict) => {
      if (!verdict.rename) return admitted();
      const name = makeStreamName(verdict.rename.app, verdict.rename.stream);
      this.log.info(
        { event: 'on_publish', path: req.name.path, to: name.path, proto: req.protocol },
        `on_publish renamed ${req.name.path} to ${name.path}`,
      );
      return admitted(name);
    });
  }

  /** An admitted viewer: on_stop once its connection closes. */
  private watchViewer(cb: HttpCallbacks, req: AdmissionRequest): undefined {
    if (cb.has('on_stop') && req.connection) {
      const body = bodyOf(req);
      req.connection.once('close', () => cb.notify('on_stop', body));
    }
    return undefined;
  }

  private remember(body: CallbackBody, name: StreamName): void {
    this.pending.set(name.path, body);
    // A publish admitted but then refused by the hub (the name is taken) never starts.
    setTimeout(() => {
      if (this.pending.get(name.path) === body) this.pending.delete(name.path);
    }, PENDING_PUBLISH_MS).unref();
  }
}
