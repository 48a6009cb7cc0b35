import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { TimeoutError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observability/metrics.ts';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Per request: an id (the caller's X-Request-Id when well-formed, else a new one) echoed in the
 * response, put on every log line and passed into the jobs the request queues; one access-log
 * line and a latency observation per route, after errors have become responses.
 */
export function requestContext(logger: Logger, metrics: Metrics) {
  return async (ctx: Context, next: Next) => {
    const started = performance.now();
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.set('X-Request-Id', requestId);
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ request_id: requestId });
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      // The route template (not the raw path) keeps the label set small.
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? (ctx.status === 404 ? 'unmatched' : ctx.path);
      metrics.observeRequest(ctx.method, String(route), ctx.status, seconds);
      ctx.state.log.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(seconds * 1e4) / 10, key: ctx.state.apiKey }, 'request');
    }
  };
}

/**
 * A deadline per request: when it passes, the request is answered 503 (`timeout`) and its
 * AbortSignal (`ctx.state.signal`) fires, which the engine checks between pipeline stages, so the
 * work left for an answer nobody is waiting for is not done.
 */
export function deadline(timeoutMs: number) {
  return async (ctx: Context, next: Next) => {
    const controller = new AbortController();
    ctx.state.signal = controller.signal;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new TimeoutError(timeoutMs);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    try {
      await Promise.race([next(), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}
