import Router from '@koa/router';
import Koa from 'koa';
import type { Engine } from '../engine.ts';
import { InProcessRateLimiter, RedisRateLimiter } from '../access/rate-limit.ts';
import { Metrics } from '../observability/metrics.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { access } from './access.ts';
import { audited } from './audit.ts';
import { cors } from './cors.ts';
import { deadline, requestContext } from './request-context.ts';
import { errorHandler } from './errors.ts';
import { openApiRoute } from './openapi.ts';
import type { DemoContent, RouteServices, RouteSpec } from './route.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { couponRoutes } from './routes/coupons.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { ruleRoutes } from './routes/rules.ts';
import { searchRoutes } from './routes/search.ts';
import { synonymRoutes } from './routes/synonyms.ts';
import { widgetRoutes } from './routes/widgets.ts';

/** The route table: every route once, with its scope and documentation (see route.ts). */
const TABLE: RouteSpec[] = [
  ...searchRoutes,
  ...synonymRoutes,
  ...ruleRoutes,
  ...analyticsRoutes,
  ...couponRoutes,
  ...eventRoutes,
  ...healthRoutes,
  ...widgetRoutes,
];
export const ROUTES: readonly RouteSpec[] = [...TABLE, openApiRoute(TABLE)];

/**
 * The HTTP API over an engine. No side effects beyond a rate limiter connection (closed with the
 * engine): `listen` is the caller's. Middleware order: request id and access log (outermost, so
 * they see final statuses) → errors become JSON → deadline → CORS → keys, scopes, rate limits →
 * the audit log of writes → routes, mounted from the route table, which also drives the scope check and /openapi.json.
 */
export function createApp(engine: Engine, options: { demo?: DemoContent } = {}): Koa {
  const app = new Koa();
  const { config } = engine;
  const bodyLimit = config.server.bodyLimitBytes;
  const metrics = new Metrics(engine.metricsSources());
  const limiter = config.queue.redisUrl ? new RedisRateLimiter(config.queue.redisUrl, config.queue.prefix) : new InProcessRateLimiter();
  engine.onClose(() => limiter.close());
  const http = engine.logger.child({ component: 'http' });
  app.proxy = config.server.trustProxy;
  app.silent = true; // errors are logged by errorHandler, once
  app.use(requestContext(http, metrics));
  app.use(errorHandler(http));
  app.use(deadline(config.server.requestTimeoutMs));
  app.use(cors(config.server.corsOrigins));
  app.use(access(config, limiter, metrics, ROUTES));
  app.use(audited(new AuditLog(config.auditLogPath)));
  const router = new Router();
  const services: RouteServices = { engine, metrics, limiter, bodyLimit, demo: options.demo };
  for (const route of ROUTES) {
    router.register(route.path, [route.method], (ctx) => route.handle(ctx, services));
  }
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
