import Router from '@koa/router';
import Koa from 'koa';
import type { Engine } from '../engine.ts';
import { InProcessRateLimiter, RedisRateLimiter } from '../access/rate-limit.ts';
import { Metrics } from '../observability/metrics.ts';
import { access } from './access.ts';
import { cors } from './cors.ts';
import { deadline, requestContext } from './request-context.ts';
import { errorHandler } from './errors.ts';
import { couponRoutes } from './routes/coupons.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { searchRoutes } from './routes/search.ts';
import { widgetRoutes } from './routes/widgets.ts';

/**
 * The HTTP API over an engine. No side effects beyond a rate limiter connection (closed with the
 * engine): `listen` is the caller's. Middleware order: request id and access log (outermost, so
 * they see final statuses) → errors become JSON → deadline → CORS → keys, scopes, rate limits →
 * routes.
 */
export function createApp(engine: Engine): Koa {
  const app = new Koa();
  const { config } = engine;
  const bodyLimit = config.server.bodyLimitBytes;
  const metrics = new Metrics(engine);
  const limiter = config.queue.redisUrl ? new RedisRateLimiter(config.queue.redisUrl, config.queue.prefix) : new InProcessRateLimiter();
  engine.onClose(() => limiter.close());
  const http = engine.logger.child({ component: 'http' });
  app.proxy = config.server.trustProxy;
  app.silent = true; // errors are logged by errorHandler, once
  app.use(requestContext(http, metrics));
  app.use(errorHandler(http));
  app.use(deadline(config.server.requestTimeoutMs));
  app.use(cors(config.server.corsOrigins));
  app.use(access(config, limiter, metrics));
  const router = new Router();
  healthRoutes(router, engine, metrics);
  searchRoutes(router, engine, bodyLimit, metrics);
  couponRoutes(router, engine, bodyLimit);
  eventRoutes(router, engine, bodyLimit, metrics);
  widgetRoutes(router);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
