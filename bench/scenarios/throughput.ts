import { viewRun } from '../lib/view-run.js';
import { describe, runnableServers, type Scenario, saveRun } from './scenario.js';

/**
 * 1,000 viewers of a 4 Mbit/s stream: delivered rate with 0 failures and CPU-seconds per
 * Gbit delivered; Node-Media-Server by HTTP-FLV and nginx-rtmp by RTMP play in the same run.
 * Target: 4 Gbit/s, and at least 10× Node-Media-Server's rate.
 */
export const throughput: Scenario = {
  name: 'throughput',
  summary: '1,000 viewers of a 4 Mbit/s stream: Gbit/s delivered (target 4, ≥ 10× NMS)',
  defaults: {
    viewers: [1000],
    seconds: 30,
    servers: ['estuary', 'nms', 'nginx'],
    rate: 1000,
    kbps: 4000,
    protocol: 'http-flv',
  },
  async run(ctx) {
    const rates: Record<string, number> = {};
    for (const server of runnableServers(ctx.opts.servers)) {
      const viewers = ctx.opts.viewers[0]!;
      const r = await viewRun(ctx.group, {
        server,
        viewers,
        protocol: ctx.opts.protocol,
        stampClock: false,
        opts: ctx.opts,
      });
      const gbit = (r.views.plateauMbps * r.views.plateauSeconds) / 1000;
      // CPU per Gbit over the plateau: CPU seconds in the whole run, so an upper bound.
      const cpuPerGbit =
        gbit > 0 ? Math.round((r.serverFigures.cpuSeconds / ((r.views.bytes * 8) / 1e9)) * 100) / 100 : null;
      rates[server] = r.views.plateauMbps;
      console.log(`[throughput] ${describe(r, viewers)}; CPU s per Gbit ${cpuPerGbit}`);
      saveRun('throughput', ctx, {
        ...r,
        viewers,
        cpuSecondsPerGbit: cpuPerGbit,
        targets: { fourGbit: r.views.plateauMbps >= 4000 && r.views.failed === 0 },
      });
    }
    if (rates.estuary && rates.nms) {
      console.log(`[throughput] Estuary / NMS delivered rate: ${(rates.estuary / rates.nms).toFixed(1)}×`);
    }
  },
};
