// The complete MP4 of a recording, in a plain <video> (seekable: the web port answers Range).
import {
  api,
  bindForm,
  exists,
  fileUrl,
  h,
  liveInfo,
  pageHeader,
  play,
  rel,
  showError,
  streamFromQuery,
  watchVideo,
} from './common.js';

pageHeader();
const values = bindForm();
const video = document.getElementById('video');
watchVideo(video);
start().catch((err) => showError(err.message));

/** The newest complete MP4 of the stream and its codecs, from /api/recordings. */
async function fromApi(path) {
  const { recordings } = await api('recordings');
  const sessions = recordings.find((r) => r.path === path)?.mp4 ?? [];
  const s = sessions.find((x) => x.full);
  return s ? { url: rel(s.full.url), codecs: s.merge?.codecs ?? [] } : undefined;
}

async function start() {
  let url;
  let codecs = [];
  if (values.file) {
    url = fileUrl(values.file);
    document.getElementById('what').textContent = values.file;
  } else {
    const { path, stream } = streamFromQuery(values);
    document.getElementById('what').textContent = path;
    const found = await fromApi(path).catch(() => undefined);
    if (found) ({ url, codecs } = found);
    else {
      // No API (a plain file server) or nothing listed: try the recorder's names.
      for (const name of [`${stream}_full.mp4`, 'stream_full.mp4']) {
        const guess = rel(`mp4/${path}/output_merge/${name}`);
        if (!url && (await exists(guess))) url = guess;
      }
    }
    if (!url) {
      const live = (await liveInfo(path).catch(() => null)) !== null;
      throw new Error(
        live
          ? `Stream ${path} is live: its complete MP4 is written when the stream ends.`
          : `There is no complete MP4 recording of ${path}.`,
      );
    }
  }
  document.getElementById('url').textContent = url;
  if (!(await exists(url))) throw new Error(`File missing: ${new URL(url).pathname}`);
  const mime = `video/mp4${codecs.length ? `; codecs="${codecs.join(', ')}"` : ''}`;
  if (codecs.length && video.canPlayType(mime) === '') {
    throw new Error(`This browser cannot play this MP4 (${codecs.join(', ')}).`);
  }
  document.getElementById('download').replaceChildren(h('a', { href: url, download: '' }, 'download'));
  video.src = url;
  play(video);
}
