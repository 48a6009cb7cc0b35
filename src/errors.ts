/**
 * The error taxonomy. Every failure that reaches a caller is one of these; infrastructure errors
 * (LanceDB, Redis, the model runtime) are mapped to them once, at the adapter boundary, so the HTTP
 * layer only needs `status` and `expose` to answer.
 */
export type ErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'payload_too_large'
  | 'unavailable'
  | 'reindex_required'
  | 'internal';

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `filter.and.0.radius_km`. */
  field: string;
  message: string;
}

export class EngineError extends Error {
  override readonly name: string = 'EngineError';
  readonly code: ErrorCode;
  readonly status: number;
  /** Whether the message may be shown to an API caller (never true for `internal`). */
  readonly expose: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, status: number, message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = status;
    this.expose = code !== 'internal';
    this.details = options.details;
  }
}

export class ValidationError extends EngineError {
  override readonly name = 'ValidationError';
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[]) {
    const first = issues[0];
    super('invalid_input', 400, first ? `${first.field}: ${first.message}` : 'invalid input', { details: issues });
    this.issues = issues;
  }
}

export class NotFoundError extends EngineError {
  override readonly name = 'NotFoundError';
  constructor(what: string, id: string) {
    super('not_found', 404, `${what} '${id}' not found`);
  }
}

export class PayloadTooLargeError extends EngineError {
  override readonly name = 'PayloadTooLargeError';
  constructor(limitBytes: number) {
    super('payload_too_large', 413, `request body exceeds ${limitBytes} bytes`);
  }
}

/** A dependency (store, queue, model) cannot serve right now; callers may retry. */
export class UnavailableError extends EngineError {
  override readonly name = 'UnavailableError';
  readonly retryAfterSeconds: number;
  constructor(dependency: string, message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super('unavailable', 503, `${dependency} unavailable: ${message}`, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds ?? 5;
  }
}

/** The stored vectors were made by another embedder or text version than the running one. */
export class ReindexRequiredError extends EngineError {
  override readonly name = 'ReindexRequiredError';
  constructor(message: string) {
    super('reindex_required', 503, message);
  }
}

export function isEngineError(error: unknown): error is EngineError {
  return error instanceof EngineError;
}
