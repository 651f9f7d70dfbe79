/**
 * Why a conversion failed or stopped short, as `estuary convert` reports it: each kind has its own
 * exit status (documented in the README and `estuary convert --help`), numbered like the pusher's
 * where the meaning is the same (3 input missing, 4 not media, 5 unsupported codec).
 *
 * Not an EstuaryError code: these describe the outcome of one run, and several EstuaryError
 * codes map onto one kind (as push-error.ts explains for the pusher).
 */
export type ConvertErrorKind =
  | 'usage'
  | 'input-missing'
  | 'not-media'
  | 'codec-unsupported'
  | 'output-exists'
  | 'output-failed'
  | 'incomplete'
  | 'interrupted';

export const CONVERT_EXIT_CODES: Readonly<Record<ConvertErrorKind, number>> = {
  usage: 2,
  'input-missing': 3,
  'not-media': 4,
  'codec-unsupported': 5,
  'output-exists': 6,
  'output-failed': 7,
  /** The input is truncated or corrupt: the output holds everything up to the last whole frame. */
  incomplete: 8,
  /** SIGINT (128 + 2, the shell convention); SIGTERM gives 143. */
  interrupted: 130,
};

export class ConvertError extends Error {
  readonly kind: ConvertErrorKind;

  constructor(kind: ConvertErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConvertError';
    this.kind = kind;
  }

  get exitCode(): number {
    return CONVERT_EXIT_CODES[this.kind];
  }
}

export function isConvertError(err: unknown, kind?: ConvertErrorKind): err is ConvertError {
  return err instanceof ConvertError && (kind === undefined || err.kind === kind);
}
