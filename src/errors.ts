/**
 * The error taxonomy. Every failure that reaches a caller is one of these; infrastructure errors
 * (LanceDB, Redis, the model runtime) are mapped to them once, at the adapter boundary, so the HTTP
 * layer only needs `status` and `expose` to answer.
 */
export type ErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited'
  | 'timeout'
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

/** No API key, or one that is unknown or revoked. */
export class UnauthorizedError extends EngineError {
  override readonly name = 'UnauthorizedError';
  constructor(message: string) {
    super('unauthorized', 401, message);
  }
}

/** A valid API key without the scope the endpoint needs (or a tenant-scoped key on a route that spans every tenant). */
export class ForbiddenError extends EngineError {
  override readonly name = 'ForbiddenError';
  constructor(scope: string, message = `this API key lacks the '${scope}' scope`) {
    super('forbidden', 403, message);
  }
}

/** A tenant-scoped key naming coupons outside its filter (unknown ones look the same, so nothing leaks). */
export class OutsideKeyFilterError extends EngineError {
  override readonly name = 'OutsideKeyFilterError';
  constructor(ids: readonly string[]) {
    super(
      'forbidden',
      403,
      `this API key is limited to part of the catalogue; outside it or unknown: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}`,
      {
        details: ids.map((id) => ({ field: 'coupon_id', message: `'${id}' is outside this key's filter or unknown` })),
      },
    );
  }
}

/** Too many requests for one key or address; `retryAfterSeconds` says when a token is back. */
export class RateLimitedError extends EngineError {
  override readonly name = 'RateLimitedError';
  constructor(readonly retryAfterSeconds: number) {
    super('rate_limited', 429, `rate limit exceeded: retry in ${retryAfterSeconds} s`);
  }
}

/** The request ran past its deadline; the work still pending for it was cancelled. */
export class TimeoutError extends EngineError {
  override readonly name = 'TimeoutError';
  readonly retryAfterSeconds = 1;
  constructor(ms: number) {
    super('timeout', 503, `the request took longer than ${ms} ms and was cancelled`);
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
