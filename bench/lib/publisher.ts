import type { ChildProcess } from 'node:child_process';
import { ffmpegPath } from './media.js';
import type { ProcessGroup } from './processes.js';

/**
 * The publisher: FFmpeg re-sending the generated file in real time (-re), looped, with stream
 * copy, so the publisher costs almost no CPU on the machine it shares with the server.
 */
export function startFfmpegPublisher(group: ProcessGroup, file: string, rtmpUrl: string): ChildProcess {
  return group.spawn(ffmpegPath(), [
    ...['-v', 'error', '-re', '-stream_loop', '-1', '-i', file],
    ...['-c', 'copy', '-f', 'flv', rtmpUrl],
  ]);
}
