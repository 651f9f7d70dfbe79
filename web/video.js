// A recorded FLV file (flv/{app}/{stream}/*.flv) with mpegts.js; ?file= names one, else the
// stream's newest recording.
import {
  api,
  bindForm,
  exists,
  fileUrl,
  h,
  pageHeader,
  play,
  rel,
  showError,
  streamFromQuery,
  watchVideo,
} from './common.js';

const mpegts = window.mpegts;
pageHeader();
const values = bindForm();
const video = document.getElementById('video');
watchVideo(video);
start().catch((err) => showError(err.message));

async function newestRecording(path) {
  const { recordings } = await api('recordings');
  const file = recordings.find((r) => r.path === path)?.flv[0];
  if (!file) throw new Error(`There is no FLV recording of ${path}.`);
  return rel(file.url);
}

async function start() {
  if (!mpegts?.isSupported())
    throw new Error('This browser has no Media Source Extensions: FLV cannot play here.');
  let url;
  if (values.file) {
    url = fileUrl(values.file);
    document.getElementById('what').textContent = values.file;
  } else {
    const { path } = streamFromQuery(values);
    document.getElementById('what').textContent = path;
    url = await newestRecording(path);
  }
  document.getElementById('url').textContent = url;
  if (!(await exists(url))) throw new Error(`File missing: ${new URL(url).pathname}`);
  document.getElementById('download').replaceChildren(h('a', { href: url, download: '' }, 'download'));
  mpegts.LoggingControl.enableVerbose = false;
  mpegts.LoggingControl.enableDebug = false;
  mpegts.LoggingControl.enableInfo = false;
  const player = mpegts.createPlayer({ type: 'flv', isLive: false, url }, { enableWorker: false });
  player.on(mpegts.Events.ERROR, (type, detail, data) => {
    showError(`Playback failed (${type}: ${detail})${data?.msg ? `: ${data.msg}` : ''}`);
  });
  player.attachMediaElement(video);
  player.load();
  play(video);
}
