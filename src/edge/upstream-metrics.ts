import { Counter, Gauge, type Registry } from 'prom-client';
import type { UpstreamSource } from './upstream-source.js';

/** An edge's own /metrics families: what it pulls from its upstream, read when scraped. */
export function registerUpstreamMetrics(registry: Registry, source: UpstreamSource): void {
  new Counter({
    name: 'estuary_upstream_received_bytes_total',
    help: 'bytes received from the upstream',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(source.bytesIn);
    },
  });
  new Gauge({
    name: 'estuary_upstream_pulls',
    help: 'pulls from the upstream, by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const state of ['connecting', 'live', 'reconnecting']) this.set({ state }, 0);
      for (const p of source.stats()) this.inc({ state: p.state });
    },
  });
}
