import { z } from 'zod';
import { couponSchema } from '../domain/coupon.ts';
import { eventBatchSchema } from '../domain/event.ts';
import { FILTER_NODE_SCHEMAS } from '../domain/filter.ts';
import { FACET_NAMES } from '../search/facets.ts';
import { searchResponseSchema, suggestResponseSchema } from '../search/results.ts';
import { SORT_ORDERS } from '../search/sort-order.ts';
import { synonymListSchema, synonymSetSchema } from '../synonyms/synonym-set.ts';
import { ruleSchema } from '../rules/rule.ts';
import { MAX_LIMIT, MAX_OFFSET } from './params.ts';
import { jsonBody, openApiPath, type RouteSpec, schemaRef } from './route.ts';

/**
 * The OpenAPI 3.1 document served at /openapi.json, generated from the route table. Request bodies
 * come from the same zod schemas the routes validate with, the search response from the schema its
 * type is inferred from, and a test sends real requests to every route and validates every
 * response against this document.
 */
const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
const strip = (s: Record<string, unknown>) => {
  const { $schema: _, ...rest } = s;
  return rest;
};

const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });
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

/**
 * The document, generated from the route table: each route's summary, parameters, request body
 * and responses as declared next to its handler; public routes (no scope) need no security.
 */
export function openApiDocument(routes: readonly RouteSpec[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const operations = (paths[openApiPath(r.path)] ??= {});
    operations[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(r.scope === undefined ? { security: [{}] } : { 'x-scope': r.scope }),
      ...(r.params && { parameters: r.params }),
      ...(r.requestBody && { requestBody: r.requestBody }),
      responses: r.responses,
    };
  }
  const searchBody = strip(json(searchBodyShape(), 'input'));
  const ruleBody = strip(json(ruleSchema, 'input'));
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
        Coupon: strip(json(couponSchema, 'input')),
        Filter: filterDocument(),
        SearchBody: { ...searchBody, properties: { ...(searchBody.properties as object), filter: schemaRef('Filter') } },
        SearchResponse: strip(json(searchResponseSchema)),
        SuggestResponse: strip(json(suggestResponseSchema)),
        SynonymSetBody: strip(json(synonymSetSchema, 'input')),
        SynonymSet: strip(json(synonymListSchema.shape.synonyms.element)),
        SynonymSetList: strip(json(synonymListSchema)),
        RuleBody: ruleBody,
        Rule: {
          ...ruleBody,
          properties: { ...(ruleBody.properties as object), id: { type: 'string' }, updated_at: { type: 'string' } },
          required: [...((ruleBody.required as string[]) ?? []), 'id', 'updated_at'],
        },
        RuleList: { type: 'object', properties: { rules: { type: 'array', items: schemaRef('Rule') } }, required: ['rules'] },
        EventBatch: strip(json(eventBatchSchema, 'input')),
        Job: strip(json(jobInfo)),
        Accepted: strip(json(accepted)),
        Readiness: strip(json(readiness)),
      },
    },
    security: [{ bearer: [] }, { header: [] }, { query: [] }, {}],
    paths,
  };
}

/** GET /openapi.json, documenting the table it is part of. */
export function openApiRoute(routes: readonly RouteSpec[]): RouteSpec {
  let document: Record<string, unknown> | undefined;
  const route: RouteSpec = {
    method: 'GET',
    path: '/openapi.json',
    scope: undefined,
    summary: 'This document',
    responses: { 200: { description: 'OpenAPI 3.1', ...jsonBody({ type: 'object' }) } },
    handle(ctx) {
      document ??= openApiDocument([...routes, route]);
      ctx.body = document;
    },
  };
  return route;
}

/** The filter AST: each node an object with exactly one key; and/or/not nest. */
function filterDocument(): Record<string, unknown> {
  const nested = (key: string) =>
    key === 'not'
      ? schemaRef('Filter')
      : key === 'and' || key === 'or'
        ? { type: 'array', minItems: 1, maxItems: 50, items: schemaRef('Filter') }
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
    typo_tolerance: z.boolean().default(true),
    understand: z.boolean().default(true),
    facets: z.array(z.enum(FACET_NAMES)).min(1).max(FACET_NAMES.length).optional(),
    sort: z.enum(SORT_ORDERS).default('relevance'),
    user_id: z.string().optional(),
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
    limit: z.number().int().min(1).max(MAX_LIMIT).default(10),
    offset: z.number().int().min(0).max(MAX_OFFSET).default(0),
    explain: z.boolean().default(false),
  });
}
