/**
 * A plain HTML listing of one directory (`estuary file-gateway --dir`), for browsing the
 * recordings by hand. Names are escaped for HTML and links percent-encoded, so a file named
 * `<script>` or `a b#c` is shown as itself; dot files (`.recording` markers) are left out.
 */
import { readdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NO_CACHE } from './cache-policy.js';
import { CORS_HEADERS, sendError } from './respond.js';

/** A listing shows at most this many entries (a folder of a year's segments stays one page). */
const MAX_ENTRIES = 10_000;

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

export async function sendListing(
  req: IncomingMessage,
  res: ServerResponse,
  dir: string,
  urlPath: string,
): Promise<void> {
  let entries: { name: string; dir: boolean }[];
  try {
    const found = await readdir(dir, { withFileTypes: true });
    entries = found
      .filter((e) => !e.name.startsWith('.'))
      .map((e) => ({ name: e.name, dir: e.isDirectory() }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .slice(0, MAX_ENTRIES);
  } catch {
    return sendError(res, 404, 'not found');
  }
  const title = escapeHtml(decodeURIComponent(urlPath));
  const rows = entries.map((e) => {
    const name = e.dir ? `${e.name}/` : e.name;
    const href = encodeURIComponent(e.name) + (e.dir ? '/' : '');
    return `<li><a href="${escapeHtml(href)}">${escapeHtml(name)}</a></li>`;
  });
  const body = `<!doctype html>\n<meta charset="utf-8">\n<title>${title}</title>\n<h1>${title}</h1>\n<ul>\n<li><a href="../">../</a></li>\n${rows.join('\n')}\n</ul>\n`;
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.writeHead(200, {
    ...CORS_HEADERS,
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': NO_CACHE,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
