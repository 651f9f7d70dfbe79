/**
 * Why a push failed, as the CLI reports it. Each kind has its own exit status so scripts can
 * tell a bad input from a refused publish from a server that went away.
 *
 * Not an EstuaryError code: these describe the outcome of one CLI run (several EstuaryError
 * codes map onto one kind), and the catalogue in src/errors.ts is for errors a server raises.
 */
export type PushErrorKind =
  | 'usage'
  | 'file-missing'
  | 'not-media'
  | 'codec-unsupported'
  | 'publish-refused'
  | 'unreachable'
  | 'connection-lost';

/** Exit statuses; 1 stays for unexpected failures and 2 for usage, as in `estuary serve`. */
export const PUSH_EXIT_CODES: Readonly<Record<PushErrorKind, number>> = {
  usage: 2,
  'file-missing': 3,
  'not-media': 4,
  'codec-unsupported': 5,
  'publish-refused': 6,
  unreachable: 7,
  'connection-lost': 8,
};

/**
 * `text` with the value of every query parameter of the URLs in it masked (`?sign=***&key=***`):
 * a publish URL's query carries its credentials, and what the pusher prints may end up in a log.
 */
export function maskQueries(text: string): string {
  return text.replace(/([?&][^=&\s?#]+)=[^&\s#]*/g, '$1=***');
}

export class PushError extends Error {
  readonly kind: PushErrorKind;

  /** The message is shown with the query values of any URL in it masked (maskQueries). */
  constructor(kind: PushErrorKind, message: string, options?: { cause?: unknown }) {
    super(maskQueries(message), options);
    this.name = 'PushError';
    this.kind = kind;
  }

  get exitCode(): number {
    return PUSH_EXIT_CODES[this.kind];
  }
}

export function isPushError(err: unknown, kind?: PushErrorKind): err is PushError {
  return err instanceof PushError && (kind === undefined || err.kind === kind);
}

/**
 * A refusal because the name is live: after a connection loss the server may not have noticed
 * yet that the old publish is gone, so a reconnect retries this one (Estuary answers HTTP 409
 * and RTMP descriptions start with the code).
 */
export function isBusyRefusal(err: PushError): boolean {
  return err.kind === 'publish-refused' && /ERR_STREAM_BUSY|HTTP 409/.test(err.message);
}
