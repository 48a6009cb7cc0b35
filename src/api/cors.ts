import type { Context, Next } from 'koa';

/**
 * Cross-origin access for the configured origins only (the pages that embed the widgets): their
 * browsers may call the API; any other origin gets no CORS headers, so its browser refuses the
 * response. Preflights are answered here.
 */
export function cors(origins: readonly string[]) {
  const allowed = new Set(origins);
  return async (ctx: Context, next: Next) => {
    const origin = ctx.get('origin');
    ctx.vary('Origin');
    if (origin && (allowed.has(origin) || allowed.has('*'))) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Expose-Headers', 'Server-Timing, Retry-After');
      if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
        ctx.set('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE');
        ctx.set('Access-Control-Allow-Headers', 'content-type, authorization, x-api-key');
        ctx.set('Access-Control-Max-Age', '600');
        ctx.status = 204;
        return;
      }
    }
    await next();
  };
}
