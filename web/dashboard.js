// The dashboard at `/`: live streams (codecs, size, frame rate, bitrate, uptime, viewers per
// protocol, a plot of bitrate and viewers, a link to every output) and the recordings, from the
// JSON API, refreshed every REFRESH_MS.
import {
  api,
  clearError,
  formatBytes,
  formatClock,
  formatKbps,
  h,
  pageHeader,
  rel,
  setStatus,
  showError,
  toWs,
} from './common.js';

const REFRESH_MS = 2000;
pageHeader();
refresh();

async function refresh() {
  try {
    const [srv, live, rec] = await Promise.all([api('server'), api('streams?history=1'), api('recordings')]);
    clearError();
    renderServer(srv);
    renderLive(live.streams, srv);
    renderRecordings(rec.recordings, new Set(live.streams.map((s) => s.path)));
    setStatus(`Updated ${new Date().toLocaleTimeString()} · refreshes every ${REFRESH_MS / 1000} s`);
  } catch (err) {
    showError(`The server's API does not answer: ${err.message}`);
  }
  setTimeout(refresh, REFRESH_MS);
}

function renderServer(srv) {
  const conns = Object.entries(srv.connections)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  document
    .getElementById('server')
    .replaceChildren(
      h('span', {}, `Estuary ${srv.version}`),
      h('span', {}, `up ${formatClock(srv.uptimeSeconds)}`),
      h('span', {}, `${srv.streams} live`),
      h('span', {}, `connections: ${conns}`),
      h('span', {}, `CPU ${srv.cpu.percent}%`),
      h('span', {}, `memory ${formatBytes(srv.memory.rss)}`),
      h('span', {}, `in ${formatBytes(srv.bytesIn)} · out ${formatBytes(srv.bytesOut)}`),
    );
}

/** Where the live URLs point: the page's host, the ports the server reports. */
function urlsFor(path, srv) {
  const http = new URL(location.href);
  http.port = String(srv.ports.http);
  http.pathname = `/${path}.flv`;
  http.search = '';
  http.hash = '';
  const host = location.hostname.includes(':') ? `[${location.hostname}]` : location.hostname;
  return {
    rtmp: `rtmp://${host}:${srv.ports.rtmp}/${path}`,
    httpFlv: http.href,
    wsFlv: toWs(http.href),
    hls: rel(`hls/${path}/index.m3u8`),
    fmp4: rel(`mp4/${path}/output_merge/index.m3u8`),
  };
}

function videoLine(v) {
  if (!v) return 'none';
  const size = v.width ? `${v.width}×${v.height}` : undefined;
  const fps = v.fps ? `${v.fps} fps` : undefined;
  return [[v.codec.toUpperCase(), v.profile, v.level].filter(Boolean).join(' '), size, fps]
    .filter(Boolean)
    .join(' · ');
}

function audioLine(a) {
  if (!a) return 'none';
  const rate = `${a.sampleRate / 1000} kHz`;
  const ch = a.channels === 1 ? 'mono' : a.channels === 2 ? 'stereo' : `${a.channels} ch`;
  return [[a.codec.toUpperCase(), a.profile].filter(Boolean).join(' '), rate, ch].join(' · ');
}

function viewersLine(viewers) {
  const parts = Object.entries(viewers)
    .filter(([k]) => k !== 'total')
    .map(([k, v]) => `${k} ${v}`);
  return `${viewers.total}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

const SVG = 'http://www.w3.org/2000/svg';

/** Bitrate (solid) and viewers (dashed) over the history, each scaled to its own maximum. */
function plot(history) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'plot');
  svg.setAttribute('viewBox', '0 0 300 80');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  const maxRate = Math.max(1, ...history.map((s) => s.bitrate));
  const maxViewers = Math.max(1, ...history.map((s) => s.viewers));
  const span = history.length > 1 ? history.at(-1).t - history[0].t : 1;
  svg.setAttribute('aria-label', `bitrate up to ${formatKbps(maxRate / 1000)}, up to ${maxViewers} viewers`);
  const line = (cls, value, max) => {
    const p = document.createElementNS(SVG, 'polyline');
    p.setAttribute('class', cls);
    p.setAttribute('vector-effect', 'non-scaling-stroke');
    p.setAttribute(
      'points',
      history
        .map(
          (s) =>
            `${(((s.t - history[0].t) / span) * 300).toFixed(1)},${(76 - (value(s) / max) * 72).toFixed(1)}`,
        )
        .join(' '),
    );
    svg.append(p);
  };
  if (history.length > 1) {
    line('bitrate', (s) => s.bitrate, maxRate);
    line('viewers', (s) => s.viewers, maxViewers);
  }
  const minutes = Math.max(1, Math.round(span / 60000));
  return h(
    'div',
    {},
    svg,
    h(
      'div',
      { class: 'legend' },
      h('span', { class: 'b' }, `— bitrate (max ${formatKbps(maxRate / 1000)})`),
      ' ',
      h('span', { class: 'v' }, `- - viewers (max ${maxViewers})`),
      ` · last ${span < 60000 ? `${Math.round(span / 1000)} s` : `${minutes} min`}`,
    ),
  );
}

function renderLive(streams, srv) {
  const box = document.getElementById('live');
  if (streams.length === 0) {
    const host = location.hostname.includes(':') ? `[${location.hostname}]` : location.hostname;
    box.replaceChildren(
      h(
        'p',
        { class: 'muted' },
        'Nothing is live. Publish with ',
        h('code', {}, `ffmpeg -re -i in.mp4 -c copy -f flv rtmp://${host}:${srv.ports.rtmp}/live/stream`),
        ' or OBS (server ',
        h('code', {}, `rtmp://${host}:${srv.ports.rtmp}/live`),
        ', key ',
        h('code', {}, 'stream'),
        ').',
      ),
    );
    return;
  }
  box.replaceChildren(
    ...streams.map((s) => {
      const u = urlsFor(s.path, srv);
      const q = `app=${encodeURIComponent(s.app)}&stream=${encodeURIComponent(s.stream)}`;
      return h(
        'section',
        { class: 'card', 'data-stream': s.path },
        h('h3', {}, s.path),
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'video'),
          h('dd', {}, videoLine(s.video)),
          h('dt', {}, 'audio'),
          h('dd', {}, audioLine(s.audio)),
          h('dt', {}, 'bitrate'),
          h('dd', {}, formatKbps(s.bitrateKbps)),
          h('dt', {}, 'uptime'),
          h('dd', {}, formatClock(s.uptimeSeconds)),
          h('dt', {}, 'viewers'),
          h('dd', { class: 'viewers' }, viewersLine(s.viewers)),
          h('dt', {}, 'publisher'),
          h('dd', {}, s.publisher ? `${s.publisher.protocol} from ${s.publisher.remote}` : '–'),
          h('dt', {}, 'in / out'),
          h('dd', {}, `${formatBytes(s.bytesIn)} / ${formatBytes(s.bytesOut)}`),
        ),
        plot(s.history ?? []),
        h(
          'div',
          { class: 'links' },
          h('strong', {}, 'Play:'),
          h('a', { href: `index.html?${q}&transport=http-flv` }, 'HTTP-FLV'),
          h('a', { href: `index.html?${q}&transport=ws-flv` }, 'WS-FLV'),
          h('a', { href: `play.html?${q}` }, 'HLS'),
          h('a', { href: `play.html?${q}&format=fmp4` }, 'fMP4 HLS'),
          h('a', { href: `play_merge.html?${q}&mode=merge` }, 'fMP4 (MSE)'),
        ),
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'RTMP'),
          h('dd', {}, h('code', { class: 'url' }, u.rtmp)),
          h('dt', {}, 'HTTP-FLV'),
          h('dd', {}, h('a', { href: u.httpFlv }, h('code', { class: 'url' }, u.httpFlv))),
          h('dt', {}, 'WS-FLV'),
          h('dd', {}, h('code', { class: 'url' }, u.wsFlv)),
          h('dt', {}, 'HLS'),
          h('dd', {}, h('a', { href: u.hls }, h('code', { class: 'url' }, u.hls))),
          h('dt', {}, 'fMP4 HLS'),
          h('dd', {}, h('a', { href: u.fmp4 }, h('code', { class: 'url' }, u.fmp4))),
        ),
      );
    }),
  );
}

function sessionLabel(s) {
  return `${s.session ?? 'latest'}${s.recording ? ' (recording…)' : ''}`;
}

/** One row: kind, what, size, duration, links. */
function row(kind, what, size, seconds, ...links) {
  return h(
    'tr',
    {},
    h('td', {}, kind),
    h('td', {}, what),
    h('td', {}, formatBytes(size)),
    h('td', {}, formatClock(seconds)),
    h('td', {}, h('span', { class: 'links' }, links)),
  );
}

function renderRecordings(recordings, live) {
  const box = document.getElementById('recordings');
  if (recordings.length === 0) {
    box.replaceChildren(h('p', { class: 'muted' }, 'No recordings yet.'));
    return;
  }
  box.replaceChildren(
    ...recordings.map((r) => {
      const q = `app=${encodeURIComponent(r.app)}&stream=${encodeURIComponent(r.stream)}`;
      const file = (url) => encodeURIComponent(url.replace(/^\//, ''));
      const rows = [];
      for (const f of r.flv) {
        rows.push(
          row(
            'FLV',
            f.file,
            f.size,
            f.durationSeconds,
            h('a', { href: `video.html?file=${file(f.url)}` }, 'play'),
            h('a', { href: rel(f.url), download: f.file }, 'download'),
          ),
        );
      }
      for (const s of r.hls) {
        rows.push(
          row(
            'HLS',
            sessionLabel(s),
            s.size,
            s.durationSeconds,
            h('a', { href: `play.html?${q}&src=${file(s.url)}` }, 'play'),
            h('a', { href: rel(s.url) }, 'm3u8'),
          ),
        );
      }
      for (const s of r.mp4) {
        const session = s.session ? `&session=${encodeURIComponent(s.session)}` : '';
        if (s.full) {
          rows.push(
            row(
              'MP4',
              `${sessionLabel(s)} · ${s.full.file}`,
              s.full.size,
              s.full.durationSeconds,
              h('a', { href: `mp4.html?file=${file(s.full.url)}` }, 'play'),
              h('a', { href: rel(s.full.url), download: s.full.file }, 'download'),
            ),
          );
        }
        if (s.merge || s.separate) {
          rows.push(
            row(
              'fMP4',
              `${sessionLabel(s)}${s.merge ? ` · ${s.merge.segments} segment${s.merge.segments === 1 ? '' : 's'}` : ''}`,
              s.merge?.size,
              s.merge?.durationSeconds,
              s.merge && h('a', { href: `play_merge.html?${q}&mode=merge${session}` }, 'play merged'),
              s.separate && h('a', { href: `play_merge.html?${q}&mode=separate${session}` }, 'play separate'),
              s.merge && h('a', { href: rel(s.merge.url) }, 'm3u8'),
            ),
          );
        }
      }
      return h(
        'section',
        { 'data-recordings': r.path },
        h('h3', {}, r.path, live.has(r.path) ? h('span', { class: 'muted' }, ' · live') : null),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['kind', 'file / session', 'size', 'duration', ''].map((t) => h('th', {}, t)),
              ),
            ),
            h('tbody', {}, rows),
          ),
        ),
      );
    }),
  );
}
