import { z } from 'zod';

/** Everything `estuary serve` can be told. Defaults are CONTRACT.md's. */
export const ServeConfigSchema = z
  .object({
    host: z.string().min(1).default('0.0.0.0'),
    rtmpPort: z.coerce.number().int().min(0).max(65535).default(1935),
    httpPort: z.coerce.number().int().min(0).max(65535).default(8501),
    webPort: z.coerce.number().int().min(0).max(65535).default(8000),
    dataDir: z.string().min(1).default('./data'),
    record: z
      .object({
        flv: z.boolean().default(true),
        hls: z.boolean().default(true),
        mp4: z.boolean().default(true),
      })
      .strict()
      .default({ flv: true, hls: true, mp4: true }),
    /** HLS: segment target duration, s (segments are cut on the first keyframe after it). */
    hlsSegmentSeconds: z.coerce.number().min(0.5).max(60).default(2),
    /** HLS: segments in the live playlist; 0 keeps every segment (a full VOD playlist). */
    hlsWindow: z.coerce.number().int().min(0).default(6),
    /**
     * HLS: seconds a segment stays on disk after it left the live window. Unset: RFC 8216 6.2.2's
     * minimum, the segment's duration plus the playlist's.
     */
    hlsGraceSeconds: z.coerce.number().min(0).max(3600).optional(),
    /**
     * HLS: delete segments that left the live window (nginx-rtmp's hls_cleanup). Off: every
     * segment is kept and the ended playlist is a complete VOD playlist.
     */
    hlsCleanup: z.boolean().default(false),
    authSecret: z.string().min(1).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Per-viewer byte budget before it skips to the next keyframe. */
    viewerMaxBufferedBytes: z.coerce
      .number()
      .int()
      .min(64 * 1024)
      .default(4 * 1024 * 1024),
    /** A viewer that cannot take data for this long is closed. */
    viewerStallTimeoutMs: z.coerce.number().int().min(1000).default(15_000),
    /** GOP cache bounds. */
    gopCacheMaxBytes: z.coerce
      .number()
      .int()
      .min(0)
      .default(32 * 1024 * 1024),
    gopCacheMaxMs: z.coerce.number().int().min(0).default(30_000),
    /**
     * A publisher (RTMP or HTTP-FLV) silent this long, or an RTMP connection neither publishing
     * nor playing, is closed.
     */
    idleTimeoutMs: z.coerce.number().int().min(1000).default(30_000),
    /** Largest RTMP message / FLV tag accepted from a publisher. */
    maxMessageBytes: z.coerce
      .number()
      .int()
      .min(64 * 1024)
      .max(64 * 1024 * 1024)
      .default(8 * 1024 * 1024),
  })
  .strict();

export type ServeConfig = z.infer<typeof ServeConfigSchema>;
