import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import { statusOf } from '../http/respond.js';
import { type Admission, admit } from '../hub/admission.js';
import type { StreamHub } from '../hub/stream-hub.js';
import { parseStreamPath, type StreamName } from '../hub/stream-name.js';
import { admittedBeforeBody, publishRequest, refusePublish } from './ingest.js';

/**
 * `Expect: 100-continue` on a publish (RFC 9110 10.1.1): the name, the signature and whether the
 * name is free are checked before the publisher sends any media, and a refusal is the final
 * answer instead of 100 Continue. `estuary push` asks for it, so a refused push learns why at
 * once; FFmpeg does not, and gets the same refusal after its first bytes. Anything else is
 * answered 100 Continue and handled as a normal request. With `publish` false (an edge) a publish
 * gets its 405 without a 100 Continue.
 */
export function answerExpectContinue(
  server: Server,
  hub: StreamHub,
  log: Logger,
  publish = true,
  admission?: Admission,
): void {
  server.on('checkContinue', (req, res) => {
    // A port that takes no publish (an edge) gives its 405 as the final answer, not after a 100.
    if (!publish && (req.method === 'POST' || req.method === 'PUT')) {
      server.emit('request', req, res);
      return;
    }
    const go = () => {
      res.writeContinue();
      server.emit('request', req, res);
    };
    if (req.method !== 'POST' && req.method !== 'PUT') return go();
    const refuse = (err: unknown) => {
      log.warn({ proto: 'http-flv-publish', reason: describeError(err) }, 'publish refused before its body');
      refusePublish(req, res, statusOf(err), describeError(err));
    };
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const query = q < 0 ? '' : url.slice(q);
    let asked: StreamName;
    try {
      asked = parseStreamPath(url);
    } catch (err) {
      return refuse(err);
    }
    admit(
      admission,
      publishRequest(req, asked, query),
      (name) => {
        try {
          hub.checkPublish(name, query);
        } catch (err) {
          return refuse(err);
        }
        // The request handler publishes under this name without asking the admission again.
        admittedBeforeBody.set(req, name);
        go();
      },
      refuse,
    );
  });
}
