/**
 * `estuary serve --workers N`, one worker: the origin, plus what makes N of them one server —
 * a claim on each published name (the primary's directory: one publisher per name across the
 * workers), a private loopback HTTP-FLV port other workers pull from, the hub's source that pulls
 * streams published on other workers, and GET /api/streams, /api/server and /metrics as the
 * sum over the workers.
 */

import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import type { Logger } from 'pino';
import type { ServeConfig } from '../config/schema.js';
import { EstuaryError } from '../errors.js';
import type { ServerInfo } from '../http/api/server.js';
import type { StreamInfo } from '../http/api/stream-info.js';
import { listStreams } from '../http/api/streams.js';
import type { MetricsGather } from '../http/metrics.js';
import { Origin } from '../origin/origin.js';
import type { GatherKind } from './messages.js';
import { sumServers } from './sum-server.js';
import { sumStreams } from './sum-streams.js';
import type { PrimaryLink } from './worker-link.js';
import { WorkerSource } from './worker-source.js';

type MetricsJson = Awaited<ReturnType<MetricsGather>>[number];

/** A claim whose publish has not begun this long after it was granted is given back, ms. */
const CLAIM_CHECK_MS = 10_000;
/** How long an admin end waits for the kicked publisher's connection to close, ms. */
const END_WAIT_MS = 2000;

export class OriginWorker {
  readonly origin: Origin;
  private readonly source: WorkerSource;
  private readonly privateServer: Server = createServer();
  /** Names published here (not relays): released when their publish ends. */
  private readonly held = new Set<string>();
  private privateUrl: string | undefined;

  constructor(
    config: ServeConfig,
    private readonly link: PrimaryLink,
    log: Logger,
  ) {
    this.origin = new Origin(config, log, {
      recover: false,
      gatherStreams: (query) => this.gather(query),
      gatherServer: async () => sumServers((await this.parts('server')) as ServerInfo[]),
      gatherMetrics: async () => (await this.parts('metrics')).filter(Array.isArray) as MetricsJson[],
      endElsewhere: async (path) => {
        const r = await link.request({ t: 'end', path });
        return r.found ? { ended: r.ended === true } : undefined;
      },
      link,
    });
    const hub = this.origin.hub;
    this.source = new WorkerSource(hub, link, config.maxMessageBytes, log);
    hub.setSource(this.source);
    // Last of the admission steps: a name another step renamed is the one claimed.
    this.origin.admission.use((req) => (req.action === 'publish' ? this.claim(req.name.path) : undefined));
    hub.addHooks({
      onPublish: (stream) => {
        if (!stream.publisher?.relay) this.held.add(stream.path);
      },
      onUnpublish: (stream) => {
        if (this.held.delete(stream.path)) link.note({ t: 'release', path: stream.path });
      },
    });
    link.on({
      describe: (query, what) => {
        if (what === 'server') return this.origin.describeServer();
        if (what === 'metrics') return this.origin.metrics.getMetricsAsJSON();
        const history = new URLSearchParams(query).get('history') === '1';
        return listStreams(hub, this.origin.stats, history);
      },
      end: async (path) => {
        const s = hub.get(path);
        const publisher = s?.publisher;
        if (!s || !publisher || publisher.relay) return false;
        log.info({ path, protocol: publisher.protocol }, 'publish ended through the admin API');
        publisher.kick('publish ended through the admin API');
        const deadline = Date.now() + END_WAIT_MS;
        while (s.publisher === publisher && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 10));
        return s.publisher !== publisher;
      },
    });
    this.privateServer.on('connection', (socket) => this.origin.acceptLive(socket));
  }

  private async claim(path: string): Promise<undefined> {
    // Published here already: the hub would refuse it, so the name is not claimed (a claim would
    // stay held). A relay here is asked about at the primary: while its holder lives the claim is
    // refused there; once the holder died the publisher, reconnecting to this worker, takes the
    // stream over from the relay (StreamHub.publish), and viewers here and on other workers go on.
    const current = this.origin.hub.get(path)?.publisher;
    if (current && !current.relay) {
      throw new EstuaryError(
        'ERR_STREAM_BUSY',
        `stream ${path} is already being published (by ${current.protocol} ${current.remote})`,
      );
    }
    const r = await this.link.request({ t: 'claim', path });
    if (!r.ok) throw new EstuaryError('ERR_STREAM_BUSY', r.reason ?? `stream ${path} is busy`);
    // A publisher may go away between the claim and its first tag: the name must not stay held.
    setTimeout(() => {
      if (!this.held.has(path)) this.link.note({ t: 'release', path });
    }, CLAIM_CHECK_MS).unref();
    return undefined;
  }

  private async gather(query: string): Promise<{ streams: StreamInfo[] }> {
    return { streams: sumStreams((await this.parts('streams', query)) as StreamInfo[][]) };
  }

  /** Every live worker's `describe` answer of that kind (this one's included), via the primary. */
  private async parts(what: GatherKind, query = ''): Promise<readonly unknown[]> {
    const r = await this.link.request({ t: 'gather', query, what });
    return (r.parts ?? []).filter((p) => p !== null);
  }

  async start(): Promise<void> {
    await this.origin.start();
    // `exclusive`: this port is this worker's own, not shared through the primary like the others.
    await new Promise<void>((resolve, reject) => {
      this.privateServer.once('error', reject);
      this.privateServer.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
        this.privateServer.off('error', reject);
        resolve();
      });
    });
    this.privateUrl = `http://127.0.0.1:${(this.privateServer.address() as AddressInfo).port}`;
  }

  get url(): string | undefined {
    return this.privateUrl;
  }

  async stop(): Promise<void> {
    this.source.close('server shutting down');
    this.privateServer.close();
    await this.origin.stop();
  }
}
