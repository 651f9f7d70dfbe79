import { viewRun } from '../lib/view-run.js';
import { describe, runnableServers, type Scenario, saveRun } from './scenario.js';

/**
 * Publish-to-view delay seen by 1,000 viewers: the publisher stamps its send time into every
 * video frame (load/sei-clock.ts) and each viewer records now − stamp for every frame it gets.
 * Target: p50 < 20 ms, p99 < 100 ms.
 */
export const latency: Scenario = {
  name: 'latency',
  summary: '1,000 viewers: added publish-to-view delay (target p50 < 20 ms, p99 < 100 ms)',
  defaults: {
    viewers: [1000],
    seconds: 30,
    servers: ['estuary', 'nms', 'nginx'],
    rate: 1000,
    kbps: 250,
    protocol: 'http-flv',
  },
  async run(ctx) {
    for (const server of runnableServers(ctx.opts.servers)) {
      const viewers = ctx.opts.viewers[0]!;
      const r = await viewRun(ctx.group, {
        server,
        viewers,
        protocol: ctx.opts.protocol,
        stampClock: true,
        opts: ctx.opts,
      });
      const l = r.views.latencyMs;
      console.log(`[latency] ${describe(r, viewers)}`);
      saveRun('latency', ctx, {
        ...r,
        viewers,
        targets: { p50Under20: l.p50 < 20, p99Under100: l.p99 < 100, zeroFailures: r.views.failed === 0 },
      });
    }
  },
};
