import { viewRun } from '../lib/view-run.js';
import { describe, runnableServers, type Scenario, saveRun } from './scenario.js';

/**
 * The origin-scale row: HTTP-FLV viewers of a 250 kbps stream, opened at 1,000/s and
 * held 30 s, on one server process. The viewer counts form a ladder run step by step on a fresh
 * server; a server's ladder stops at its first step with failures, so the last clean step is
 * the largest N at 0 failures. Target: 19,500 with 0 failures, first keyframe p99 < 1 s.
 */
export const originScale: Scenario = {
  name: 'origin-scale',
  summary: 'HTTP-FLV viewers of a 250 kbps stream; the largest N at 0 failures (target 19,500)',
  defaults: {
    viewers: [500, 1000, 2000, 5000, 10000, 19500],
    seconds: 30,
    servers: ['estuary', 'nms'],
    rate: 1000,
    kbps: 250,
    protocol: 'http-flv',
  },
  async run(ctx) {
    const largest: Record<string, number> = {};
    for (const server of runnableServers(ctx.opts.servers)) {
      largest[server] = 0;
      for (const viewers of ctx.opts.viewers) {
        const r = await viewRun(ctx.group, {
          server,
          viewers,
          protocol: ctx.opts.protocol,
          stampClock: false,
          opts: ctx.opts,
        });
        const v = r.views;
        const met = v.failed === 0 && v.firstKeyframeMs.p99 < 1000;
        if (v.failed === 0) largest[server] = viewers;
        console.log(`[origin-scale] ${viewers} viewers: ${describe(r, viewers)}`);
        saveRun('origin-scale', ctx, {
          ...r,
          viewers,
          targets: {
            zeroFailures: v.failed === 0,
            firstKeyframeP99Under1s: v.firstKeyframeMs.p99 < 1000,
            met: met && viewers >= 19500,
          },
        });
        if (v.failed > 0) break;
      }
    }
    console.log(`[origin-scale] largest N at 0 failures: ${JSON.stringify(largest)}`);
  },
};
