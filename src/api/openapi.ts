import { z } from 'zod';
import { couponSchema } from '../domain/coupon.ts';
import { eventBatchSchema } from '../domain/event.ts';
import { FILTER_NODE_SCHEMAS } from '../domain/filter.ts';
import { MAX_LIMIT, MAX_OFFSET } from './params.ts';

/**
 * The OpenAPI 3.1 document served at /openapi.json. Request bodies come from the same zod schemas
 * the routes validate with; response bodies are described here, and a test sends real requests
 * to every route and validates every response against this document.
 */
const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
const strip = (s: Record<string, unknown>) => {
  const { $schema: _, ...rest } = s;
  return rest;
};

const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });
const stageScore = z.object({ rank: z.number().int(), score: z.number() });
const searchResponse = z.object({
  query_id: z.string().describe('Send it back, with the position, on impression, click, save and redeem events'),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  results: z.array(
    z.object({
      id: z.string(),
      score: z.number(),
      coupon: z.record(z.string(), z.unknown()).describe('The coupon, as stored (see the Coupon schema)'),
      discount_label: z.string(),
      distance_km: z.number().optional(),
      explain: z
        .object({
          dense: stageScore.optional(),
          lexical: stageScore.optional(),
          behavior: stageScore.optional(),
          popularity: stageScore.optional(),
          fused: stageScore.optional(),
          rank: z.object({ scorer: z.string(), score: z.number(), features: z.record(z.string(), z.number()) }).optional(),
          diversify: z.object({ position: z.number().int(), mmr: z.number().nullable(), max_similarity: z.number(), demoted: z.boolean() }).optional(),
        })
        .optional(),
    }),
  ),
  explain: z.object({ stages: z.record(z.string(), z.object({ ms: z.number(), note: z.string() })) }).optional(),
});
const jobInfo = z.object({
  id: z.string(),
  type: z.enum(['upsert', 'delete', 'reindex', 'counters']),
  state: z.enum(['waiting', 'active', 'delayed', 'completed', 'failed', 'unknown']),
  attempts: z.number().int(),
  progress: z.number().optional(),
  result: z.unknown().optional(),
  error: z.string().optional(),
  createdAt: z.number(),
  finishedAt: z.number().optional(),
});
const accepted = z.union([z.object({ job_id: z.string(), status_url: z.string() }), z.object({ job_id: z.string(), job: jobInfo })]);
const readiness = z.object({ ready: z.boolean(), checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })) });

type Param = { name: string; in: 'query' | 'path'; required?: boolean; schema: Record<string, unknown>; description?: string };
const q = (name: string, schema: Record<string, unknown>, description?: string): Param => ({ name, in: 'query', schema, ...(description && { description }) });
const idParam: Param = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_.@-]{1,128}$' } };
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

const body = (schema: Record<string, unknown>, type = 'application/json') => ({ content: { [type]: { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), { description: ERROR_TEXT[c] ?? 'error', ...body(ref('Error')) }]));
const ERROR_TEXT: Record<number, string> = {
  400: 'invalid input; `details` names each field',
  401: 'no API key, or an unknown or revoked one',
  403: 'the API key lacks the scope',
  404: 'not found',
  413: 'body too large',
  429: 'rate limited (Retry-After)',
  503: 'a dependency is unavailable, the request timed out, or a reindex is required (Retry-After)',
};
const common = [401, 403, 429, 503];

export function openApiDocument(): Record<string, unknown> {
  const coupon = strip(json(couponSchema, 'input'));
  return {
    openapi: '3.1.0',
    info: { title: 'coupon-search', version: '1.0.0', description: 'Semantic search, similar coupons and recommendations for coupon marketplaces.' },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        header: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
        query: { type: 'apiKey', in: 'query', name: 'api_key' },
      },
      schemas: {
        Error: strip(json(errorBody)),
        Coupon: coupon,
        Filter: filterDocument(),
        SearchResponse: strip(json(searchResponse)),
        Job: strip(json(jobInfo)),
        Accepted: strip(json(accepted)),
        Readiness: strip(json(readiness)),
      },
    },
    security: [{ bearer: [] }, { header: [] }, { query: [] }, {}],
    paths: {
      '/v1/search': {
        get: {
          summary: 'Search coupons',
          parameters: [
            { ...q('q', { type: 'string', minLength: 1, maxLength: 500 }), required: true },
            q('category', list('categories')),
            q('merchant', list('merchant ids')),
            q('min_discount', { type: 'number', minimum: 0, maximum: 100 }),
            ...place,
            userId,
            ...paging,
          ],
          responses: { 200: { description: 'results', ...body(ref('SearchResponse')) }, ...errors(400, ...common) },
        },
        post: {
          summary: 'Search coupons with the filter AST',
          requestBody: {
            required: true,
            ...body({
              ...strip(json(searchBodyShape(), 'input')),
              properties: { ...(strip(json(searchBodyShape(), 'input')).properties as object), filter: ref('Filter') },
            }),
          },
          responses: { 200: { description: 'results', ...body(ref('SearchResponse')) }, ...errors(400, 413, ...common) },
        },
      },
      '/v1/coupons/{id}/similar': {
        get: {
          summary: 'Coupons similar to one coupon',
          parameters: [
            idParam,
            q('mode', { enum: ['content', 'behavior', 'blend'], default: 'content' }),
            q('category', list('categories')),
            ...place,
            userId,
            ...paging,
          ],
          responses: { 200: { description: 'results', ...body(ref('SearchResponse')) }, ...errors(400, 404, ...common) },
        },
      },
      '/v1/users/{id}/recommendations': {
        get: {
          summary: 'A user\'s "for you" feed',
          parameters: [
            idParam,
            q('category', list('categories')),
            q('min_discount', { type: 'number', minimum: 0, maximum: 100 }),
            q('q', { type: 'string', maxLength: 500 }, 'the latest search, for users the recommender cannot place'),
            ...place,
            ...paging,
          ],
          responses: { 200: { description: 'results', ...body(ref('SearchResponse')) }, ...errors(400, ...common) },
        },
      },
      '/v1/coupons/{id}': {
        get: {
          summary: 'One coupon',
          parameters: [idParam],
          responses: { 200: { description: 'the coupon', ...body({ type: 'object' }) }, ...errors(400, 404, ...common) },
        },
        put: {
          summary: 'Create or replace a coupon (queued)',
          parameters: [idParam, q('wait', { type: 'boolean', default: false }, 'wait up to 30 s for the job')],
          requestBody: { required: true, ...body(ref('Coupon')) },
          responses: {
            200: { description: 'done (wait=true)', ...body(ref('Accepted')) },
            202: { description: 'queued', ...body(ref('Accepted')) },
            ...errors(400, 413, ...common),
          },
        },
        delete: {
          summary: 'Delete a coupon (queued)',
          parameters: [idParam, q('wait', { type: 'boolean', default: false })],
          responses: {
            200: { description: 'done (wait=true)', ...body(ref('Accepted')) },
            202: { description: 'queued', ...body(ref('Accepted')) },
            ...errors(400, ...common),
          },
        },
      },
      '/v1/coupons/batch': {
        post: {
          summary: 'Create or replace up to 1,000 coupons (queued)',
          requestBody: {
            required: true,
            ...body({ type: 'object', required: ['coupons'], properties: { coupons: { type: 'array', minItems: 1, maxItems: 1000, items: ref('Coupon') } } }),
          },
          responses: {
            202: {
              description: 'queued',
              ...body({
                type: 'object',
                required: ['job_ids', 'count'],
                properties: { job_ids: { type: 'array', items: { type: 'string' } }, count: { type: 'integer' } },
              }),
            },
            ...errors(400, 413, ...common),
          },
        },
      },
      '/v1/jobs/{id}': {
        get: {
          summary: 'An indexing job',
          parameters: [{ ...idParam, schema: { type: 'string' } }],
          responses: { 200: { description: 'the job', ...body(ref('Job')) }, ...errors(400, 404, ...common) },
        },
      },
      '/v1/reindex': {
        post: { summary: 'Rebuild every vector (queued)', responses: { 202: { description: 'queued', ...body(ref('Accepted')) }, ...errors(...common) } },
      },
      '/v1/events': {
        post: {
          summary: 'Record interaction events (idempotent on event_id)',
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: strip(json(eventBatchSchema, 'input')) },
              'text/plain': { schema: { type: 'string', description: 'the same JSON (navigator.sendBeacon)' } },
            },
          },
          responses: {
            202: {
              description: 'stored',
              ...body({
                type: 'object',
                required: ['accepted', 'duplicates'],
                properties: { accepted: { type: 'integer' }, duplicates: { type: 'integer' }, job_id: { type: 'string' } },
              }),
            },
            ...errors(400, 413, ...common),
          },
        },
      },
      '/healthz': {
        get: {
          summary: 'Liveness',
          security: [{}],
          responses: { 200: { description: 'alive', ...body({ type: 'object', required: ['status'], properties: { status: { const: 'ok' } } }) } },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness of every dependency',
          security: [{}],
          responses: { 200: { description: 'ready', ...body(ref('Readiness')) }, 503: { description: 'not ready', ...body(ref('Readiness')) } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [{}],
          responses: { 200: { description: 'text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/openapi.json': { get: { summary: 'This document', security: [{}], responses: { 200: { description: 'OpenAPI 3.1', ...body({ type: 'object' }) } } } },
      '/widgets/v1.js': {
        get: {
          summary: 'The web components bundle',
          security: [{}],
          responses: {
            200: { description: 'ES module', content: { 'text/javascript': { schema: { type: 'string' } } } },
            304: { description: 'not modified' },
          },
        },
      },
      '/demo': {
        get: {
          summary: 'The demo page',
          security: [{}],
          responses: { 200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } },
        },
      },
    },
  };
}

/** The filter AST: each node an object with exactly one key; and/or/not nest. */
function filterDocument(): Record<string, unknown> {
  const nested = (key: string) =>
    key === 'not'
      ? ref('Filter')
      : key === 'and' || key === 'or'
        ? { type: 'array', minItems: 1, maxItems: 50, items: ref('Filter') }
        : strip(json(FILTER_NODE_SCHEMAS[key]!, 'input'));
  return {
    description: 'A filter node: an object with exactly one key',
    oneOf: Object.keys(FILTER_NODE_SCHEMAS).map((key) => ({
      type: 'object',
      required: [key],
      additionalProperties: false,
      properties: { [key]: nested(key) },
    })),
  };
}

/** POST /v1/search's body, as documented (the route's schema adds cross-field checks). */
function searchBodyShape() {
  return z.object({
    q: z.string().min(1).max(500),
    user_id: z.string().optional(),
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
    limit: z.number().int().min(1).max(MAX_LIMIT).default(10),
    offset: z.number().int().min(0).max(MAX_OFFSET).default(0),
    explain: z.boolean().default(false),
  });
}
