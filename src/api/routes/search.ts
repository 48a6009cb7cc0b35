import type { Context } from 'koa';
import { parseOrThrow } from '../../domain/validation.ts';
import type { z } from 'zod';
import type { Filter } from '../../domain/filter.ts';
import type { SearchInput, SearchOutcome } from '../../engine.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { FACET_NAMES } from '../../search/facets.ts';
import { SORT_ORDERS } from '../../search/sort-order.ts';
import { readJson } from '../body.ts';
import {
  DEFAULT_FEED_RADIUS_KM,
  filterFromParams,
  MAX_LIMIT,
  MAX_OFFSET,
  originFromParams,
  parseId,
  parseQuery,
  recommendationsQuerySchema,
  searchBodySchema,
  searchQuerySchema,
  similarQuerySchema,
  suggestQuerySchema,
} from '../params.ts';
import { COMMON_ERRORS, errorResponses, idParam, jsonBody, queryParam as q, type RouteSpec, schemaRef } from '../route.ts';

/** Answers with the response and a Server-Timing header of the pipeline's stages (also recorded as metrics). */
function send(ctx: Context, outcome: SearchOutcome, pipeline: string, metrics: Metrics): void {
  metrics.observeStages(pipeline, outcome.timings);
  // Stages first (they sum to the pipeline), then the parts within them (`embed-correct`: typo correction).
  const entries = [...Object.entries(outcome.timings), ...Object.entries(outcome.parts)];
  ctx.set('Server-Timing', entries.map(([name, ms]) => `${name};dur=${(ms ?? 0).toFixed(2)}`).join(', '));
  ctx.body = outcome.response;
}

/** What every listing takes: the caller's filter, the API key's filter, the shopper's place, paging and explain. */
function listing(
  p: { lat?: number | undefined; lon?: number | undefined; limit: number; offset: number; explain: boolean },
  filter: Filter | undefined,
  ctx: Context,
) {
  return { filter, keyFilter: ctx.state.keyFilter as Filter | undefined, origin: originFromParams(p), limit: p.limit, offset: p.offset, explain: p.explain };
}

/** The engine's search input from either form's parsed parameters (the filter built by the caller) and the API key's filter. */
function searchInput(p: z.output<typeof searchBodySchema> | z.output<typeof searchQuerySchema>, filter: Filter | undefined, ctx: Context): SearchInput {
  return {
    query: p.q,
    ...listing(p, filter, ctx),
    userId: p.user_id,
    typoTolerance: p.typo_tolerance,
    understand: p.understand,
    facets: p.facets,
    sort: p.sort,
  };
}

const paging = [
  q('limit', { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 10 }),
  q('offset', { type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0 }),
  q('explain', { type: 'boolean', default: false }),
  q('api_key', { type: 'string' }, 'an API key, for clients that cannot send headers (widgets, beacons)'),
];
const place = [
  q('lat', { type: 'number', minimum: -90, maximum: 90 }),
  q('lon', { type: 'number', minimum: -180, maximum: 180 }),
  q('radius_km', { type: 'number', exclusiveMinimum: 0, maximum: 20000 }, 'a geo filter; needs lat and lon'),
];
const list = (description: string) => ({ type: 'string', description: `${description} (comma-separated)` });
const userId = q('user_id', { type: 'string', pattern: '^[A-Za-z0-9_.@-]{1,128}$' }, 'the shopper, for personal ranking signals');
const results = { description: 'results', ...jsonBody(schemaRef('SearchResponse')) };

export const searchRoutes: RouteSpec[] = [
  {
    method: 'GET',
    path: '/v1/search',
    scope: 'search',
    summary: 'Search coupons',
    params: [
      { ...q('q', { type: 'string', minLength: 1, maxLength: 500 }), required: true },
      q('typo_tolerance', { type: 'boolean', default: true }, 'correct query words the catalogue does not know (the response then has corrected_query)'),
      q(
        'understand',
        { type: 'boolean', default: true },
        'read coupon phrases ("half price", "under $15", "bogo", "near me", "tonight", "online") as filters and boosts (the response then has understood)',
      ),
      q('facets', list(`facets to count: ${FACET_NAMES.join(', ')}; distance needs lat and lon`)),
      q('sort', { type: 'string', enum: [...SORT_ORDERS], default: 'relevance' }, 'relevance, or one field (ties by relevance); distance needs lat and lon'),
      q('category', list('categories')),
      q('merchant', list('merchant ids')),
      q('min_discount', { type: 'number', minimum: 0, maximum: 100 }),
      ...place,
      userId,
      ...paging,
    ],
    responses: { 200: results, ...errorResponses(400, ...COMMON_ERRORS) },
    async handle(ctx, { engine, metrics }) {
      const p = parseQuery(searchQuerySchema, ctx.query);
      send(ctx, await engine.search(searchInput(p, filterFromParams(p), ctx), ctx.state.signal), 'search', metrics);
    },
  },
  {
    method: 'POST',
    path: '/v1/search',
    scope: 'search', // a read with a body
    summary: 'Search coupons with the filter AST',
    requestBody: { required: true, ...jsonBody(schemaRef('SearchBody')) },
    responses: { 200: results, ...errorResponses(400, 413, ...COMMON_ERRORS) },
    async handle(ctx, { engine, metrics, bodyLimit }) {
      const p = parseOrThrow(searchBodySchema, await readJson(ctx, bodyLimit));
      send(ctx, await engine.search(searchInput(p, p.filter, ctx), ctx.state.signal), 'search', metrics);
    },
  },
  {
    method: 'GET',
    path: '/v1/suggest',
    scope: 'search',
    summary: 'Autocomplete: past queries, merchants, categories and coupon titles for a prefix (typo-tolerant)',
    params: [
      { ...q('q', { type: 'string', minLength: 1, maxLength: 100 }, 'what the shopper has typed so far'), required: true },
      q('limit', { type: 'integer', minimum: 1, maximum: 20, default: 8 }),
      q('api_key', { type: 'string' }, 'an API key, for clients that cannot send headers (widgets)'),
    ],
    responses: { 200: { description: 'suggestions', ...jsonBody(schemaRef('SuggestResponse')) }, ...errorResponses(400, ...COMMON_ERRORS) },
    async handle(ctx, { engine }) {
      const p = parseQuery(suggestQuerySchema, ctx.query);
      ctx.body = { suggestions: await engine.suggest(p.q, p.limit, ctx.state.keyFilter) };
    },
  },
  {
    method: 'GET',
    path: '/v1/coupons/:id/similar',
    scope: 'search',
    summary: 'Coupons similar to one coupon',
    params: [
      idParam,
      q('mode', { enum: ['content', 'behavior', 'blend'], default: 'content' }),
      q('category', list('categories')),
      ...place,
      userId,
      ...paging,
    ],
    responses: { 200: results, ...errorResponses(400, 404, ...COMMON_ERRORS) },
    async handle(ctx, { engine, metrics }) {
      const id = parseId(ctx.params.id);
      const p = parseQuery(similarQuerySchema, ctx.query);
      const input = {
        ...listing(p, filterFromParams(p), ctx),
        mode: p.mode,
        userId: p.user_id,
      };
      send(ctx, await engine.similar(id, input, ctx.state.signal), 'similar', metrics);
    },
  },
  {
    method: 'GET',
    path: '/v1/users/:id/recommendations',
    scope: 'search',
    summary: 'A user\'s "for you" feed',
    params: [
      idParam,
      q('category', list('categories')),
      q('min_discount', { type: 'number', minimum: 0, maximum: 100 }),
      q('q', { type: 'string', maxLength: 500 }, 'the latest search, for users the recommender cannot place'),
      ...place,
      ...paging,
    ],
    responses: { 200: results, ...errorResponses(400, ...COMMON_ERRORS) },
    async handle(ctx, { engine, metrics }) {
      const userId = parseId(ctx.params.id);
      const p = parseQuery(recommendationsQuerySchema, ctx.query);
      const radius = p.radius_km ?? (p.lat !== undefined ? DEFAULT_FEED_RADIUS_KM : undefined);
      const filter = filterFromParams({ ...p, radius_km: radius });
      const input = { ...listing(p, filter, ctx), recentQuery: p.q };
      send(ctx, await engine.recommend(userId, input, ctx.state.signal), 'feed', metrics);
    },
  },
];
