import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Engine, SearchOutcome } from '../../engine.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { parseOrThrow } from '../../domain/validation.ts';
import { readJson } from '../body.ts';
import {
  DEFAULT_FEED_RADIUS_KM,
  filterFromParams,
  originFromParams,
  parseId,
  parseQuery,
  recommendationsQuerySchema,
  searchBodySchema,
  searchQuerySchema,
  similarQuerySchema,
} from '../params.ts';

/** Answers with the response and a Server-Timing header of the pipeline's stages (also recorded as metrics). */
function send(ctx: Context, outcome: SearchOutcome, pipeline: string, metrics: Metrics): void {
  metrics.observeStages(pipeline, outcome.timings);
  ctx.set(
    'Server-Timing',
    Object.entries(outcome.timings)
      .map(([stage, ms]) => `${stage};dur=${ms.toFixed(2)}`)
      .join(', '),
  );
  ctx.body = outcome.response;
}

export function searchRoutes(router: Router, engine: Engine, bodyLimit: number, metrics: Metrics): void {
  router.get('/v1/search', async (ctx) => {
    const p = parseQuery(searchQuerySchema, ctx.query);
    send(
      ctx,
      await engine.search(
        { query: p.q, filter: filterFromParams(p), origin: originFromParams(p), limit: p.limit, offset: p.offset, explain: p.explain, userId: p.user_id },
        ctx.state.signal,
      ),
      'search',
      metrics,
    );
  });

  router.post('/v1/search', async (ctx) => {
    const p = parseOrThrow(searchBodySchema, await readJson(ctx, bodyLimit));
    send(
      ctx,
      await engine.search(
        { query: p.q, filter: p.filter, origin: originFromParams(p), limit: p.limit, offset: p.offset, explain: p.explain, userId: p.user_id },
        ctx.state.signal,
      ),
      'search',
      metrics,
    );
  });

  router.get('/v1/coupons/:id/similar', async (ctx) => {
    const id = parseId(ctx.params.id);
    const p = parseQuery(similarQuerySchema, ctx.query);
    send(
      ctx,
      await engine.similar(
        id,
        { filter: filterFromParams(p), origin: originFromParams(p), limit: p.limit, offset: p.offset, explain: p.explain, mode: p.mode, userId: p.user_id },
        ctx.state.signal,
      ),
      'similar',
      metrics,
    );
  });

  router.get('/v1/users/:id/recommendations', async (ctx) => {
    const userId = parseId(ctx.params.id);
    const p = parseQuery(recommendationsQuerySchema, ctx.query);
    const radius = p.radius_km ?? (p.lat !== undefined ? DEFAULT_FEED_RADIUS_KM : undefined);
    const filter = filterFromParams({ ...p, radius_km: radius });
    send(
      ctx,
      await engine.recommend(
        userId,
        { filter, origin: originFromParams(p), limit: p.limit, offset: p.offset, explain: p.explain, recentQuery: p.q },
        ctx.state.signal,
      ),
      'feed',
      metrics,
    );
  });
}
