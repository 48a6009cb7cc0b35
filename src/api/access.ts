import type { Context, Next } from 'koa';
import { ApiKeyRing, SCOPED_KEY_SCOPES, type Scope } from '../access/api-keys.ts';
import type { RateLimiter } from '../access/rate-limit.ts';
import type { Config } from '../config.ts';
import { ForbiddenError, RateLimitedError, UnauthorizedError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { pathMatcher, type RouteSpec } from './route.ts';

/**
 * The scope a request needs, from the route table (undefined for public routes: health, docs,
 * widgets, demo), and whether the route spans every tenant. An unknown path under /v1/ needs
 * `write`, so a route missing from the table fails closed.
 */
export function scopeResolver(routes: readonly RouteSpec[]): (method: string, path: string) => { scope: Scope | undefined; spansTenants: boolean } {
  const table = routes.map((r) => ({ method: r.method, match: pathMatcher(r.path), scope: r.scope, spansTenants: r.spansTenants ?? false }));
  return (method, path) => {
    const m = method === 'HEAD' ? 'GET' : method;
    const route = table.find((r) => r.method === m && r.match.test(path)) ?? table.find((r) => r.match.test(path));
    if (route) return route;
    return { scope: path.startsWith('/v1/') ? 'write' : undefined, spansTenants: true };
  };
}

/** The key a request presents: `Authorization: Bearer`, `X-Api-Key`, or `?api_key=` (beacons and widgets: no custom headers). */
function presentedKey(ctx: Context): string | undefined {
  const auth = ctx.get('authorization');
  if (/^bearer /i.test(auth)) return auth.slice(7).trim();
  return ctx.get('x-api-key') || (typeof ctx.query.api_key === 'string' ? ctx.query.api_key : undefined);
}

/**
 * Authentication, scopes and rate limits, before any route runs. With no API_KEYS_FILE every
 * endpoint is open (a laptop, a test); with one, an endpoint's scope is required: no or an
 * invalid key → 401 (an expired one says so), a key without the scope → 403. A scoped key's
 * filter is left in `ctx.state.keyFilter` for the routes. Rate limits apply per client address and per
 * key (429 with Retry-After).
 */
export function access(config: Config, limiter: RateLimiter, metrics: Metrics, routes: readonly RouteSpec[]) {
  const requiredScope = scopeResolver(routes);
  const ring = config.access.apiKeysFile ? new ApiKeyRing(config.access.apiKeysFile) : undefined;
  const { ipRps, keyRps, publicReads } = config.access;
  return async (ctx: Context, next: Next) => {
    if (ctx.method === 'OPTIONS') return next();
    const { scope, spansTenants } = requiredScope(ctx.method, ctx.path);
    let keyId: string | undefined;
    const presented = ring && scope ? presentedKey(ctx) : undefined;
    // PUBLIC_READS opens search to callers without a key; a key that is presented is still checked (and its filter applies).
    if (ring && scope && (presented || !(publicReads && scope === 'search'))) {
      if (!presented) throw new UnauthorizedError(`an API key with the '${scope}' scope is required (Authorization: Bearer <key>)`);
      const check = ring.verify(presented);
      if (!check.ok && check.reason === 'expired')
        throw new UnauthorizedError(`this API key expired at ${check.expiredAt}: create a new one (npm run keys -- create)`);
      if (!check.ok) throw new UnauthorizedError('unknown or revoked API key');
      if (!check.record.scopes.includes(scope)) throw new ForbiddenError(scope);
      // Scoped keys read and post events; what applies to every tenant (writes, rules, metrics) needs an unscoped key.
      if (check.record.filter && (spansTenants || !SCOPED_KEY_SCOPES.includes(scope)))
        throw new ForbiddenError(scope, `a key limited by a filter cannot use ${ctx.method} ${ctx.path}: it spans every tenant`);
      keyId = check.record.id;
      ctx.state.apiKey = keyId;
      // A tenant-scoped key: the routes AND this into every read and check events against it.
      ctx.state.keyFilter = check.record.filter;
    }
    // Probes and scrapes are not rate-limited: a monitor must see an overloaded server.
    if (scope && scope !== 'metrics') {
      const checks = [
        ipRps > 0 ? limiter.take(`ip:${ctx.ip}`, { rate: ipRps, burst: 2 * ipRps }).then((r) => ({ ...r, bucket: 'ip' })) : undefined,
        keyId && keyRps > 0 ? limiter.take(`key:${keyId}`, { rate: keyRps, burst: 2 * keyRps }).then((r) => ({ ...r, bucket: 'key' })) : undefined,
      ];
      for (const r of await Promise.all(checks)) {
        if (r && !r.ok) {
          metrics.rateLimited.inc({ bucket: r.bucket });
          throw new RateLimitedError(r.retryAfterSeconds);
        }
      }
    }
    await next();
  };
}
