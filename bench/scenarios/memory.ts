import { viewRun } from '../lib/view-run.js';
import { describe, runnableServers, type Scenario, saveRun } from './scenario.js';

/**
 * RSS per connected viewer: the server's RSS with every viewer connected (median over the
 * plateau) minus its RSS with the stream live and no viewer, divided by the viewers. The
 * viewers read a 250 kbps stream (nothing queues in the server), so what remains is the cost
 * of holding a connection. Target: < 20 KB per viewer.
 */
export const memory: Scenario = {
  name: 'memory',
  summary: 'connected viewers: server RSS per viewer (target < 20 KB)',
  defaults: {
    viewers: [10000],
    seconds: 30,
    servers: ['estuary', 'nms'],
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
        stampClock: false,
        opts: ctx.opts,
      });
      const f = r.serverFigures;
      const perViewerKB = Math.round((((f.plateauRssMiB - f.baseRssMiB) * 1024) / viewers) * 10) / 10;
      console.log(`[memory] ${describe(r, viewers)}; RSS per viewer ${perViewerKB} KB`);
      saveRun('memory', ctx, {
        ...r,
        viewers,
        rssPerViewerKB: perViewerKB,
        targets: { under20KB: perViewerKB < 20 && r.views.failed === 0 },
      });
    }
  },
};
