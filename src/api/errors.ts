import type { Context, Next } from 'koa';
import { isEngineError, RateLimitedError, TimeoutError, UnavailableError } from '../errors.ts';
import type { Logger } from '../log.ts';

/**
 * The one place errors become HTTP answers: `{ "error": { code, message, details } }` with the
 * engine error's status; anything unexpected is a 500 with no internals (the log has them).
 */
export function errorHandler(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: { code: 'not_found', message: `no route for ${ctx.method} ${ctx.path}` } };
      }
    } catch (error) {
      if (isEngineError(error)) {
        ctx.status = error.status;
        ctx.body = { error: { code: error.code, message: error.message, ...(error.details !== undefined && { details: error.details }) } };
        if (error instanceof UnavailableError || error instanceof RateLimitedError || error instanceof TimeoutError)
          ctx.set('Retry-After', String(error.retryAfterSeconds));
        // Expected operational errors: one line with the code, no stack.
        if (error.status >= 500) logger.warn({ code: error.code, path: ctx.path }, error.message);
        return;
      }
      const status = (error as { status?: number }).status;
      if (status === 405 || status === 501) {
        ctx.status = status;
        ctx.body = { error: { code: 'method_not_allowed', message: `${ctx.method} is not allowed on ${ctx.path}` } };
        return;
      }
      logger.error({ err: error, path: ctx.path, method: ctx.method }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { error: { code: 'internal', message: 'internal error' } };
    }
  };
}
