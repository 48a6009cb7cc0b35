import type Router from '@koa/router';
import type { Engine } from '../../engine.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { openApiDocument } from '../openapi.ts';

export function healthRoutes(router: Router, engine: Engine, metrics: Metrics): void {
  const openapi = openApiDocument();
  router.get('/openapi.json', (ctx) => {
    ctx.body = openapi;
  });
  /** Prometheus scrape endpoint. */
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  /** Liveness: the process answers. */
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  /** Readiness: store, embedder, queue and vector space all usable. */
  router.get('/readyz', async (ctx) => {
    const readiness = await engine.readiness();
    ctx.status = readiness.ready ? 200 : 503;
    ctx.body = readiness;
  });
}
