import type { Context, Next } from 'koa';
import { ApiKeyRing, type Scope } from '../access/api-keys.ts';
import type { RateLimiter } from '../access/rate-limit.ts';
import type { Config } from '../config.ts';
import { ForbiddenError, RateLimitedError, UnauthorizedError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';

/** The scope an endpoint needs; undefined for public ones (health, docs, widgets, demo). */
export function requiredScope(method: string, path: string): Scope | undefined {
  // Metrics name routes, models and volumes: with keys on, only a scraper's key reads them.
  if (path === '/metrics') return 'metrics';
  if (!path.startsWith('/v1/')) return undefined;
  if (path === '/v1/events') return 'events';
  const read = method === 'GET' || method === 'HEAD';
  if (path === '/v1/search') return 'search'; // POST /v1/search is a read with a body
  if (read && (/^\/v1\/coupons\/[^/]+(\/similar)?$/.test(path) || /^\/v1\/users\/[^/]+\/recommendations$/.test(path))) return 'search';
  return 'write';
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
 * invalid key → 401, a key without the scope → 403. Rate limits apply per client address and per
 * key (429 with Retry-After).
 */
export function access(config: Config, limiter: RateLimiter, metrics: Metrics) {
  const ring = config.access.apiKeysFile ? new ApiKeyRing(config.access.apiKeysFile) : undefined;
  const { ipRps, keyRps, publicReads } = config.access;
  return async (ctx: Context, next: Next) => {
    if (ctx.method === 'OPTIONS') return next();
    const scope = requiredScope(ctx.method, ctx.path);
    let keyId: string | undefined;
    if (ring && scope && !(publicReads && scope === 'search')) {
      const presented = presentedKey(ctx);
      if (!presented) throw new UnauthorizedError(`an API key with the '${scope}' scope is required (Authorization: Bearer <key>)`);
      const record = ring.verify(presented);
      if (!record) throw new UnauthorizedError('unknown or revoked API key');
      if (!record.scopes.includes(scope)) throw new ForbiddenError(scope);
      keyId = record.id;
      ctx.state.apiKey = record.id;
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
