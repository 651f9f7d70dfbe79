// HLS live (or an ended HLS recording) with hls.js, or the browser's own HLS where it has one
// and Media Source Extensions are missing (iPhone Safari).

import {
  api,
  bindForm,
  codecProblem,
  fileUrl,
  liveInfo,
  pageHeader,
  params,
  play,
  rel,
  setStatus,
  showError,
  streamFromQuery,
  watchVideo,
} from './common.js';
import Hls from './vendor/hls.mjs';

pageHeader();
const values = bindForm({ format: 'ts', engine: 'auto' });
const video = document.getElementById('video');
watchVideo(video);
start().catch((err) => showError(err.message));

/** The playlist URL: `?src=` (a path on this server), or the stream's TS or fMP4 HLS playlist. */
function playlistUrl(path) {
  const src = params.get('src');
  if (src) return fileUrl(src);
  return rel(values.format === 'fmp4' ? `mp4/${path}/output_merge/index.m3u8` : `hls/${path}/index.m3u8`);
}

/**
 * Segments a live playlist should hold before playback starts (a player joins a few back).
 * The browser's own player needs three: RFC 8216 6.3.3 has a client start no later than three
 * target durations from the end, and Chromium's quits ("Segment queue never had any data") when
 * it is handed fewer, where hls.js waits for the next one itself.
 */
const LIVE_MIN_SEGMENTS = { 'hls.js': 2, native: 3 };

/** The playlist's entry in /api/recordings (a TS HLS session or an fMP4 merge), if listed. */
async function listed(url) {
  const { recordings } = await api('recordings');
  for (const r of recordings) {
    for (const p of [...r.hls, ...r.mp4.map((m) => m.merge).filter(Boolean)]) {
      if (rel(p.url) === url) return p;
    }
  }
  return null;
}

/**
 * Waits until the playlist has segments: the first ones of a stream that just went live take a
 * moment. Asks the API (a playlist that is not there yet is an answer, not a 404 in the console);
 * without it, polls the playlist itself. Returns undefined when it is there, else why not.
 */
async function waitForPlaylist(url, live, engine) {
  // Three segments of a long-GOP stream take a while: 30 s before "not there".
  const deadline = Date.now() + (live ? 30_000 : 0);
  for (;;) {
    let entry;
    try {
      entry = await listed(url);
      if (entry && entry.segments >= (live && !entry.ended ? LIVE_MIN_SEGMENTS[engine] : 1)) return undefined;
    } catch {
      const res = await fetch(url, { cache: 'no-store' }).catch(() => undefined);
      if (res?.ok) return undefined;
    }
    if (Date.now() >= deadline) return entry ? 'no segments yet' : 'no playlist';
    setStatus('Waiting for the first segments…');
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function start() {
  const { path } = streamFromQuery(values);
  document.getElementById('what').textContent = path;
  const url = playlistUrl(path);
  document.getElementById('url').textContent = url;
  const info = await liveInfo(path);
  const native = video.canPlayType('application/vnd.apple.mpegurl') !== '';
  const engine = values.engine === 'auto' ? (Hls.isSupported() ? 'hls.js' : 'native') : values.engine;
  const missing = await waitForPlaylist(url, info !== null, engine === 'native' ? 'native' : 'hls.js');
  if (missing !== undefined) {
    throw new Error(
      info
        ? `Stream ${path} is live, but its HLS playlist is not there (${missing}): is the recording off?`
        : `Stream ${path} is not live, and there is no HLS recording of it.`,
    );
  }
  if (info) {
    const problem = codecProblem(info);
    if (problem) throw new Error(`Cannot play ${path}: ${problem}.`);
  } else {
    setStatus(`Stream ${path} is not live: playing its recording.`);
  }
  if (engine === 'native') {
    if (!native) throw new Error('This browser has no HLS of its own: choose the hls.js player.');
    video.src = url;
    play(video);
    return;
  }
  if (!Hls.isSupported())
    throw new Error('This browser has no Media Source Extensions: hls.js cannot play here.');
  const hls = new Hls({ debug: false });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return; // hls.js retries the others itself
    showError(
      `HLS playback failed: ${data.details}${data.response?.code ? ` (HTTP ${data.response.code})` : ''}`,
    );
    hls.destroy();
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  hls.on(Hls.Events.MANIFEST_PARSED, () => play(video));
}
