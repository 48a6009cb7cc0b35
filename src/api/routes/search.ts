import type Router from '@koa/router';
import type { Engine } from '../../engine.ts';
import { parseOrThrow } from '../../domain/validation.ts';
import { readJson } from '../body.ts';
import { filterFromParams, originFromParams, parseId, parseQuery, searchBodySchema, searchQuerySchema, similarQuerySchema } from '../params.ts';

export function searchRoutes(router: Router, engine: Engine, bodyLimit: number): void {

  router.get('/v1/search', async (ctx) => {
    const p = parseQuery(searchQuerySchema, ctx.query);
    ctx.body = await engine.search({ query: p.q, filter: filterFromParams(p), origin: originFromParams(p), limit: p.limit, offset: p.offset, explain: p.explain });
  });

  router.post('/v1/search', async (ctx) => {
    const p = parseOrThrow(searchBodySchema, await readJson(ctx, bodyLimit));
    ctx.body = await engine.search({ query: p.q, filter: p.filter, origin: originFromParams(p), limit: p.limit, offset: p.offset, explain: p.explain });
  });

  router.get('/v1/coupons/:id/similar', async (ctx) => {
    const id = parseId(ctx.params.id);
    const p = parseQuery(similarQuerySchema, ctx.query);
    ctx.body = await engine.similar(id, { filter: filterFromParams(p), origin: originFromParams(p), limit: p.limit, offset: p.offset, explain: p.explain });
  });

}
