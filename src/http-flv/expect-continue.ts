import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import { statusOf } from '../http/respond.js';
import type { StreamHub } from '../hub/stream-hub.js';
import { parseStreamPath } from '../hub/stream-name.js';
import { refusePublish } from './ingest.js';

/**
 * `Expect: 100-continue` on a publish (RFC 9110 10.1.1): the name, the signature and whether the
 * name is free are checked before the publisher sends any media, and a refusal is the final
 * answer instead of 100 Continue. `estuary push` asks for it, so a refused push learns why at
 * once; FFmpeg does not, and gets the same refusal after its first bytes. Anything else is
 * answered 100 Continue and handled as a normal request. With `publish` false (an edge) a publish
 * gets its 405 without a 100 Continue.
 */
export function answerExpectContinue(server: Server, hub: StreamHub, log: Logger, publish = true): void {
  server.on('checkContinue', (req, res) => {
    // A port that takes no publish (an edge) gives its 405 as the final answer, not after a 100.
    if (!publish && (req.method === 'POST' || req.method === 'PUT')) {
      server.emit('request', req, res);
      return;
    }
    if (req.method === 'POST' || req.method === 'PUT') {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      try {
        hub.checkPublish(parseStreamPath(url), q < 0 ? '' : url.slice(q));
      } catch (err) {
        log.warn(
          { proto: 'http-flv-publish', reason: describeError(err) },
          'publish refused before its body',
        );
        refusePublish(req, res, statusOf(err), describeError(err));
        return;
      }
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
}
