/**
 * Transport-free errors. Services throw AppError; the one HTTP error handler maps `code` to a status
 * through STATUS_BY_CODE, so no service ever knows about HTTP.
 */
export type ErrorCode =
  | 'invalid_input'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  /** The client accepts none of the media types the endpoint answers in. */
  | 'not_acceptable'
  | 'conflict'
  | 'precondition_failed'
  /** Stored content no longer matches its recorded digest: the record stands, the bytes do not. */
  | 'integrity_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  not_acceptable: 406,
  conflict: 409,
  precondition_failed: 412,
  integrity_failed: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export interface FieldProblem {
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return STATUS_BY_CODE[this.code];
  }
}

export const invalidInput = (message: string, problems?: FieldProblem[]) =>
  new AppError('invalid_input', message, problems);
export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const conflict = (message: string, details?: unknown) => new AppError('conflict', message, details);
export const forbidden = (message = 'you are not allowed to do this') => new AppError('forbidden', message);
export const unauthenticated = (message = 'a valid API token or session is required') =>
  new AppError('unauthenticated', message);
