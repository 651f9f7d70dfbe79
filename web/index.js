// FLV live over HTTP-FLV or WS-FLV, with mpegts.js (loaded as a classic script before this one).
import {
  bindForm,
  codecProblem,
  liveBase,
  liveStream,
  pageHeader,
  play,
  setStatus,
  showError,
  streamFromQuery,
  toWs,
  watchVideo,
} from './common.js';

const mpegts = window.mpegts;
pageHeader();
const values = bindForm({ transport: 'http-flv' });
const video = document.getElementById('video');
watchVideo(video);
start().catch((err) => showError(err.message));

async function start() {
  const { path } = streamFromQuery(values);
  document.getElementById('what').textContent = path;
  if (!mpegts?.isSupported())
    throw new Error('This browser has no Media Source Extensions: FLV cannot play here.');
  const info = await liveStream(path);
  const problem = codecProblem(info);
  if (problem) throw new Error(`Cannot play ${path}: ${problem}.`);
  const httpUrl = new URL(`${path}.flv`, await liveBase()).href;
  const url = values.transport === 'ws-flv' ? toWs(httpUrl) : httpUrl;
  document.getElementById('url').textContent = url;
  // mpegts.js logs every step at info level; keep the console for what goes wrong.
  mpegts.LoggingControl.enableVerbose = false;
  mpegts.LoggingControl.enableDebug = false;
  mpegts.LoggingControl.enableInfo = false;
  const player = mpegts.createPlayer(
    { type: 'flv', isLive: true, url, hasAudio: Boolean(info.audio), hasVideo: Boolean(info.video) },
    { enableWorker: false, liveBufferLatencyChasing: true, autoCleanupSourceBuffer: true },
  );
  player.on(mpegts.Events.ERROR, (type, detail, data) => {
    showError(`Playback failed (${type}: ${detail})${data?.msg ? `: ${data.msg}` : ''}`);
  });
  player.on(mpegts.Events.LOADING_COMPLETE, () => setStatus('The stream ended.'));
  player.attachMediaElement(video);
  player.load();
  play(video);
}
