// Shared by every page. Every URL is built from the page's own location (so the pages work on
// the web port, through the file gateway, a proxy or under a sub-path); the live HTTP port
// (HTTP-FLV / WS-FLV) is learned from /api/server, or given as ?live=http://host:port.

/** The folder the page was served from: API, recordings and libraries are relative to it. */
export const base = new URL('.', location.href);
export const params = new URLSearchParams(location.search);

/** A path of the web port (`/flv/…`, `api/…`) as a URL relative to the page's folder. */
export function rel(path) {
  return new URL(String(path).replace(/^\/+/, ''), base).href;
}

/** A recording's path from the query (`flv/live/stream/….flv`), as a URL on this server only. */
export function fileUrl(path) {
  const u = new URL(rel(path));
  if (u.origin !== location.origin) throw new Error('the file must be a path on this server');
  return u.href;
}

/** GET a JSON API call; throws an Error with the server's message on a non-2xx answer. */
export async function api(path) {
  let res;
  try {
    res = await fetch(rel(`api/${path}`), { cache: 'no-store' });
  } catch {
    throw new Error('the server does not answer');
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new Error(body?.error?.message ?? `${res.status} ${res.statusText}`);
    err.status = res.status;
    err.code = body?.error?.code;
    throw err;
  }
  return body;
}

let serverInfo;
/** /api/server, asked once per page. */
export function server() {
  serverInfo ??= api('server');
  return serverInfo;
}

/** Base URL of the live HTTP port (HTTP-FLV, WS-FLV): same host as the page, the API's port. */
export async function liveBase() {
  const given = params.get('live');
  if (given) return new URL(given);
  const info = await server();
  const u = new URL(location.href);
  u.port = String(info.ports.http);
  u.pathname = '/';
  u.search = '';
  u.hash = '';
  return u;
}

/** The RTMP URL of a stream, for copying into a player (same host as the page). */
export async function rtmpUrl(path) {
  const info = await server();
  return `rtmp://${location.hostname.includes(':') ? `[${location.hostname}]` : location.hostname}:${info.ports.rtmp}/${path}`;
}

export function toWs(url) {
  const u = new URL(url);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.href;
}

/** Element builder: h('a', { href }, 'text', child…); strings become text, never HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Shows `message` in the page's error box (role=alert), not in a black video box. */
export function showError(message) {
  const box = document.getElementById('error');
  box.textContent = message;
  box.hidden = false;
  document.body.classList.add('failed');
}

export function clearError() {
  const box = document.getElementById('error');
  box.textContent = '';
  box.hidden = true;
  document.body.classList.remove('failed');
}

export function setStatus(message) {
  document.getElementById('status').textContent = message;
}

/**
 * The page's form: filled from the query string, and submitting it reloads the page with the
 * new query (so every state of a page has a URL to share).
 */
export function bindForm(defaults = {}) {
  const form = document.getElementById('form');
  for (const el of form.elements) {
    if (!el.name) continue;
    const v = params.get(el.name) ?? defaults[el.name];
    if (v === undefined) continue;
    if (el.type === 'radio' || el.type === 'checkbox') el.checked = el.value === v;
    else el.value = v;
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim() !== '') q.set(k, String(v).trim());
    location.search = q.toString();
  });
  const values = {};
  for (const [k, v] of new FormData(form)) values[k] = String(v).trim();
  return values;
}

/** `app` and `stream` from the query (or the form's defaults); checked like the server does. */
export function streamFromQuery(values) {
  const app = values.app || 'live';
  const stream = values.stream || 'stream';
  const part = /^[A-Za-z0-9_-]{1,64}$/;
  if (!part.test(app) || !part.test(stream)) {
    throw new Error('a stream name is {app}/{stream}, each 1-64 characters of A-Z a-z 0-9 _ -');
  }
  return { app, stream, path: `${app}/${stream}` };
}

const MEDIA_ERRORS = {
  1: 'playback was aborted',
  2: 'a network error stopped the download',
  3: 'the browser could not decode the media',
  4: 'the browser cannot play this media (format or codec not supported, or the file is missing)',
};

/** Reports the video element's errors in the page, and its progress in the status line. */
export function watchVideo(video) {
  video.addEventListener('error', () => {
    const e = video.error;
    if (e)
      showError(
        `Playback failed: ${MEDIA_ERRORS[e.code] ?? 'unknown error'}${e.message ? ` (${e.message})` : ''}`,
      );
  });
  const tick = () => {
    if (video.videoWidth) {
      setStatus(`${video.videoWidth}×${video.videoHeight} · ${formatClock(video.currentTime)}`);
    }
  };
  video.addEventListener('timeupdate', tick);
  video.addEventListener('loadedmetadata', tick);
}

/** Starts playback; a muted autoplay is what every browser allows without a click. */
export function play(video) {
  video.muted = true;
  video.play().catch((err) => {
    if (err?.name !== 'AbortError') setStatus('press play to start');
  });
}

/** Whether MSE can take `mime` (e.g. video/mp4; codecs="avc1.640028, mp4a.40.2"). */
export function mseSupports(mime) {
  return typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported(mime);
}

/** Whether MSE can play one RFC 6381 codec string. */
export function mseCanPlay(codec) {
  // MP3 goes to MSE as audio/mpeg (what mpegts.js and hls.js feed it), not inside MP4.
  if (/^mp4a\.(6B|69)$/i.test(codec)) return mseSupports('audio/mpeg');
  const kind = /^(mp4a|opus|ac-3|ec-3|flac)/i.test(codec) ? 'audio' : 'video';
  return mseSupports(`${kind}/mp4; codecs="${codec}"`);
}

/**
 * The live stream's API entry, or null when it is not live. Asks for the list, not for the one
 * stream: a stream that is not live is an answer here, not a 404 in the browser's console.
 */
export async function liveInfo(path) {
  const { streams } = await api('streams');
  return streams.find((s) => s.path === path) ?? null;
}

/** The live stream's API entry, or an error that says it is not live. */
export async function liveStream(path) {
  const info = await liveInfo(path);
  if (!info) throw new Error(`Stream ${path} is not live: nobody publishes it right now.`);
  return info;
}

const CODEC_NAMES = {
  h264: 'H.264',
  h265: 'H.265',
  av1: 'AV1',
  vp9: 'VP9',
  aac: 'AAC',
  mp3: 'MP3',
  opus: 'Opus',
};

/** Why the browser cannot play a live stream's codecs (from the API) through MSE, or undefined. */
export function codecProblem(info) {
  const bad = [];
  for (const t of [info.video, info.audio]) {
    if (!t) continue;
    const name = CODEC_NAMES[t.codec] ?? t.codec;
    if (!t.codecString) bad.push(name);
    else if (!mseCanPlay(t.codecString)) bad.push(`${name} (${t.codecString})`);
  }
  return bad.length ? `this browser cannot play ${bad.join(' and ')}` : undefined;
}

/** A HEAD request: whether a file exists, without downloading it. */
export async function exists(url) {
  try {
    return (await fetch(url, { method: 'HEAD', cache: 'no-store' })).ok;
  } catch {
    return false;
  }
}

export function formatBytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function formatClock(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.floor(seconds);
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function formatKbps(kbps) {
  if (kbps === null || kbps === undefined) return '–';
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(2)} Mbit/s` : `${Math.round(kbps)} kbit/s`;
}

const PAGES = [
  ['./', 'Dashboard'],
  ['index.html', 'FLV live'],
  ['play.html', 'HLS live'],
  ['play_merge.html', 'fMP4'],
  ['mp4.html', 'MP4'],
  ['video.html', 'FLV file'],
];

/** The navigation bar; links keep the stream the page shows (app, stream). */
export function pageHeader() {
  const keep = new URLSearchParams();
  for (const k of ['app', 'stream', 'live']) if (params.get(k)) keep.set(k, params.get(k));
  const q = keep.toString() ? `?${keep}` : '';
  const here = location.pathname.split('/').pop() || './';
  const nav = h(
    'nav',
    {},
    PAGES.map(([href, label]) =>
      h(
        'a',
        { href: href === './' ? `./${q}` : `${href}${q}`, 'aria-current': href === here ? 'page' : null },
        label,
      ),
    ),
  );
  document.body.prepend(
    h('header', { class: 'top' }, h('a', { class: 'brand', href: `./${q}` }, 'Estuary'), nav),
  );
}
