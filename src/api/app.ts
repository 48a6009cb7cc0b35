import Router from '@koa/router';
import Koa from 'koa';
import type { Engine } from '../engine.ts';
import { cors } from './cors.ts';
import { errorHandler } from './errors.ts';
import { couponRoutes } from './routes/coupons.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { searchRoutes } from './routes/search.ts';
import { widgetRoutes } from './routes/widgets.ts';

/** The HTTP API over an engine. No side effects: `listen` is the caller's. */
export function createApp(engine: Engine): Koa {
  const app = new Koa();
  const bodyLimit = engine.config.server.bodyLimitBytes;
  app.silent = true; // errors are logged by errorHandler, once
  app.use(errorHandler(engine.logger.child({ component: 'http' })));
  app.use(cors(engine.config.server.corsOrigins));
  const router = new Router();
  healthRoutes(router, engine);
  searchRoutes(router, engine, bodyLimit);
  couponRoutes(router, engine, bodyLimit);
  eventRoutes(router, engine, bodyLimit);
  widgetRoutes(router);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
