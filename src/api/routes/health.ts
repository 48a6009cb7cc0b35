import type Router from '@koa/router';
import type { Engine } from '../../engine.ts';

export function healthRoutes(router: Router, engine: Engine): void {
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
