// fMP4 segments through Media Source Extensions: the merged output (one SourceBuffer with both
// tracks, output_merge/) or the separate one (a SourceBuffer per track, output_separate/). The
// segment lists are the recorder's playlists; a growing (live) list is followed to its end.
import {
  api,
  bindForm,
  liveInfo,
  mseSupports,
  pageHeader,
  play,
  rel,
  setStatus,
  showError,
  streamFromQuery,
  watchVideo,
} from './common.js';

pageHeader();
const values = bindForm({ mode: 'merge' });
const video = document.getElementById('video');
watchVideo(video);
start().catch((err) => showError(err.message));

/** Seconds of media kept buffered ahead of the playhead, and behind it. */
const AHEAD = 30;
const BEHIND = 30;

/** The few playlist tags this needs (RFC 8216 4.3): the init (EXT-X-MAP), segments, ENDLIST. */
function parsePlaylist(text, url) {
  const out = { init: undefined, segments: [], ended: false, target: 2 };
  let duration;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-MAP:')) out.init = new URL(/URI="([^"]+)"/.exec(line)?.[1] ?? '', url).href;
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) out.target = Number(line.slice(22)) || 2;
    else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line === '#EXT-X-ENDLIST') out.ended = true;
    else if (line && !line.startsWith('#')) {
      out.segments.push({ url: new URL(line, url).href, duration: duration ?? 0 });
      duration = undefined;
    }
  }
  if (!out.init) throw new Error(`${new URL(url).pathname} has no EXT-X-MAP: not an fMP4 playlist`);
  return out;
}

async function fetchOk(url, what) {
  const res = await fetch(url, { cache: 'no-store' }).catch(() => undefined);
  if (!res?.ok)
    throw new Error(`${what} is missing: ${new URL(url).pathname}${res ? ` (HTTP ${res.status})` : ''}`);
  return res;
}

/** Codec strings by kind from meta.json (when the recorder wrote one) or the recordings API. */
function splitCodecs(list) {
  const audio = list.filter((c) => /^(mp4a|opus|ac-3|ec-3|flac)/i.test(c));
  return { video: list.filter((c) => !audio.includes(c)), audio };
}

function codecsFromMeta(meta) {
  if (!meta || typeof meta !== 'object') return [];
  const found = [];
  const add = (v) => {
    if (typeof v === 'string')
      found.push(
        ...v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
    else if (Array.isArray(v)) for (const x of v) add(x);
  };
  add(meta.codecs);
  for (const t of [meta.video, meta.audio])
    if (t && typeof t === 'object') add(t.codec ?? t.codecs ?? t.codecString);
  return [...new Set(found)];
}

/**
 * The recording's codec strings: its meta.json (the recordings API carries it), else what the
 * API read from the init segments, else the live stream's; without the API, meta.json itself.
 */
async function findCodecs(path, session, folder, live) {
  const recordings = await api('recordings').then(
    (r) => r.recordings,
    () => undefined,
  );
  if (!recordings) {
    const meta = await fetch(rel(`${folder}/output_merge/meta.json`), { cache: 'no-store' })
      .then((r) => (r.ok ? r.json() : null))
      .catch(() => null);
    return splitCodecs(codecsFromMeta(meta));
  }
  const s = recordings.find((r) => r.path === path)?.mp4.find((m) => m.session === session);
  const fromMeta = codecsFromMeta(s?.meta);
  if (fromMeta.length) return splitCodecs(fromMeta);
  const list = s?.merge?.codecs?.length
    ? s.merge.codecs
    : [...(s?.separate?.video?.codecs ?? []), ...(s?.separate?.audio?.codecs ?? [])];
  if (list.length) return splitCodecs(list);
  return splitCodecs([live?.video?.codecString, live?.audio?.codecString].filter(Boolean));
}

/** One SourceBuffer fed from one playlist, a segment at a time, AHEAD seconds ahead of playback. */
class Feed {
  constructor(mediaSource, mime, playlistUrl) {
    this.ms = mediaSource;
    this.sb = mediaSource.addSourceBuffer(mime);
    this.url = playlistUrl;
    this.next = 0;
    this.list = undefined;
    this.t0 = undefined;
    this.first = 0;
  }

  append(buf) {
    return new Promise((resolve, reject) => {
      const done = () => {
        this.sb.removeEventListener('updateend', done);
        this.sb.removeEventListener('error', fail);
        resolve();
      };
      const fail = () => {
        this.sb.removeEventListener('updateend', done);
        reject(new Error('the browser refused a segment (codec or format it cannot decode)'));
      };
      this.sb.addEventListener('updateend', done);
      this.sb.addEventListener('error', fail);
      this.sb.appendBuffer(buf);
    });
  }

  async trimBehind() {
    const b = this.sb.buffered;
    if (b.length && video.currentTime - b.start(0) > BEHIND + 10) {
      await new Promise((resolve) => {
        this.sb.addEventListener('updateend', resolve, { once: true });
        this.sb.remove(0, video.currentTime - BEHIND);
      });
    }
  }

  bufferedAhead() {
    const b = this.sb.buffered;
    for (let i = 0; i < b.length; i++)
      if (b.start(i) <= video.currentTime + 0.5 && video.currentTime < b.end(i))
        return b.end(i) - video.currentTime;
    return 0;
  }

  /** Start time of segment i, from the EXTINF durations and where the first appended one landed. */
  startOf(i) {
    let t = this.t0 ?? 0;
    const segs = this.list.segments;
    if (i >= this.first) for (let k = this.first; k < i; k++) t += segs[k].duration;
    else for (let k = i; k < this.first; k++) t -= segs[k].duration;
    return t;
  }

  /** After a seek outside the buffer: continue from the segment that holds `time`. */
  seek(time) {
    if (!this.list || this.t0 === undefined) return;
    let i = 0;
    while (i < this.list.segments.length - 1 && this.startOf(i + 1) <= time) i++;
    this.next = i;
  }

  async run(live) {
    this.list = parsePlaylist(await (await fetchOk(this.url, 'The playlist')).text(), this.url);
    await this.append(await (await fetchOk(this.list.init, 'The init segment')).arrayBuffer());
    // A recording still growing is joined near its end, as a live player would.
    if (!this.list.ended && live) this.next = this.first = Math.max(0, this.list.segments.length - 3);
    for (;;) {
      if (this.next < this.list.segments.length) {
        if (this.bufferedAhead() > AHEAD) {
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        const seg = this.list.segments[this.next];
        const data = await (await fetchOk(seg.url, 'A segment')).arrayBuffer();
        await this.trimBehind();
        const at = this.next;
        await this.append(data);
        if (this.t0 === undefined && this.sb.buffered.length) {
          this.first = at;
          this.t0 = this.sb.buffered.start(0);
        }
        if (this.next === at) this.next++;
        continue;
      }
      if (this.list.ended) return this.startOf(this.list.segments.length);
      await new Promise((r) => setTimeout(r, this.list.target * 1000));
      const fresh = parsePlaylist(await (await fetchOk(this.url, 'The playlist')).text(), this.url);
      this.list = { ...fresh, init: this.list.init };
    }
  }
}

async function start() {
  const { app, stream, path } = streamFromQuery(values);
  const session = values.session || null;
  if (session && !/^\d{8}_\d{6}(-\d+)?$/.test(session))
    throw new Error(
      'A session is the start time of an earlier one, YYYYMMDD_HHMMSS (the dashboard lists them).',
    );
  const folder = `mp4/${app}/${stream}${session ? `.${session}` : ''}`;
  const separate = values.mode === 'separate';
  document.getElementById('what').textContent =
    `${path}${session ? ` (${session})` : ''} · ${separate ? 'separate' : 'merged'}`;
  if (typeof MediaSource === 'undefined') throw new Error('This browser has no Media Source Extensions.');
  const live = await liveInfo(path).catch(() => null);
  const playlists = separate
    ? [rel(`${folder}/output_separate/video.m3u8`), rel(`${folder}/output_separate/audio.m3u8`)]
    : [rel(`${folder}/output_merge/index.m3u8`)];
  document.getElementById('url').textContent = playlists.join('  ');
  const first = await fetch(playlists[0], { method: 'HEAD', cache: 'no-store' }).catch(() => undefined);
  if (!first?.ok) {
    throw new Error(
      live
        ? `Stream ${path} is live but has no fMP4 segments yet (is MP4 recording off?).`
        : `There is no fMP4 recording of ${path}${session ? ` from ${session}` : ''}.`,
    );
  }
  const codecs = await findCodecs(path, session, folder, live);
  const mimes = separate
    ? [
        codecs.video.length ? `video/mp4; codecs="${codecs.video.join(', ')}"` : undefined,
        codecs.audio.length ? `audio/mp4; codecs="${codecs.audio.join(', ')}"` : undefined,
      ]
    : [`video/mp4; codecs="${[...codecs.video, ...codecs.audio].join(', ')}"`];
  if (!codecs.video.length && !codecs.audio.length)
    throw new Error(`The codecs of ${path} are unknown: cannot set up playback.`);
  for (const m of mimes)
    if (m && !mseSupports(m)) throw new Error(`This browser cannot play ${m.split('codecs=')[1]}.`);
  const ms = new MediaSource();
  video.src = URL.createObjectURL(ms);
  await new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
  const feeds = mimes.map((m, i) => (m ? new Feed(ms, m, playlists[i]) : undefined)).filter(Boolean);
  video.addEventListener('seeking', () => {
    for (const f of feeds) if (f.bufferedAhead() === 0) f.seek(video.currentTime);
  });
  const started = feeds.map((f) => f.run(live !== null));
  // Start where the media starts (its first timestamp need not be 0).
  const jump = setInterval(() => {
    const starts = feeds.map((f) => f.t0).filter((t) => t !== undefined);
    if (starts.length === feeds.length) {
      clearInterval(jump);
      const t = Math.max(...starts);
      if (video.currentTime < t) video.currentTime = t;
      play(video);
    }
  }, 100);
  const ends = await Promise.all(started).catch((err) => {
    clearInterval(jump);
    throw err;
  });
  if (ms.readyState === 'open' && feeds.every((f) => !f.sb.updating)) {
    // Every segment is in: the duration becomes the end of what is buffered.
    ms.endOfStream();
    setStatus(`Whole recording loaded (${Math.round(Math.max(...ends))} s).`);
  }
}
