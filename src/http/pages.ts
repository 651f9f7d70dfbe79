/**
 * The player pages and the dashboard (`web/` in the package) and the player libraries they use,
 * served from the installed npm packages: no page loads anything from another host. A Router of
 * its own, so the origin's web port and the file gateway mount the same pages.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from './router.js';
import { serveStatic } from './static-files.js';

/** web/ beside src/ and dist/ (both two levels above this file). */
export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/**
 * `/vendor/NAME` → a file of an npm dependency, found through Node's resolution so it works from
 * a clone and from an installed package alike. Source maps ride along for the browser's tools.
 */
const VENDOR: Readonly<Record<string, string>> = {
  'mpegts.js': 'mpegts.js/dist/mpegts.js',
  'mpegts.js.map': 'mpegts.js/dist/mpegts.js.map',
  // The minified ES module build: 0.6 MB instead of 1.5 MB.
  'hls.mjs': 'hls.js/dist/hls.min.mjs',
  'hls.min.mjs.map': 'hls.js/dist/hls.min.mjs.map',
};

/** The dashboard at `/`; every other page under its own name (`/index.html` is the FLV player). */
const HOME = 'dashboard.html';

/**
 * The pages change with an upgrade: revalidated every time (their ETag makes that a 304). The
 * libraries change only with a dependency upgrade: the default hour of caching is harmless.
 */
const PAGE_CACHE = 'no-cache';

export function pageRoutes(webDir = WEB_DIR): Router {
  const r = new Router();
  r.get('/', (req, res) => serveStatic(req, res, webDir, HOME, PAGE_CACHE));
  for (const name of readdirSync(webDir)) {
    if (/^[\w.-]+\.(html|js|css|svg|png|ico)$/.test(name)) {
      r.get(`/${name}`, (req, res) => serveStatic(req, res, webDir, name, PAGE_CACHE));
    }
  }
  const require = createRequire(import.meta.url);
  for (const [name, spec] of Object.entries(VENDOR)) {
    let file: string;
    try {
      file = require.resolve(spec);
    } catch {
      continue; // a source map a package version does not ship
    }
    r.get(`/vendor/${name}`, (req, res) => serveStatic(req, res, dirname(file), basename(file)));
  }
  return r;
}
