/** The path of a committed fixture in test/fixtures/media/. */
export function fixture(name: string): string {
  return new URL(`../fixtures/media/${name}`, import.meta.url).pathname;
}

/**
 * FFmpeg arguments that publish `input` unchanged (`-c copy`) as FLV to `url`: as fast as
 * FFmpeg reads it, or at its own pace with `realtime` (`-re`).
 */
export function publishArgs(input: string, url: string, realtime = false): string[] {
  return ['-v', 'error', ...(realtime ? ['-re'] : []), '-i', input, '-c', 'copy', '-f', 'flv', url];
}

/** FFmpeg arguments that play `url` and save what arrives, unchanged, as an FLV file `out`. */
export function saveAsFlvArgs(url: string, out: string): string[] {
  return ['-v', 'error', '-i', url, '-c', 'copy', '-f', 'flv', '-y', out];
}
