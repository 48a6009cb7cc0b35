import type { Context } from 'koa';
import type { Scope } from '../access/api-keys.ts';
import type { RateLimiter } from '../access/rate-limit.ts';
import type { Engine } from '../engine.ts';
import type { Metrics } from '../observability/metrics.ts';

/** What the demo page offers in its pickers; the entry point that seeds a catalogue passes it. */
export interface DemoContent {
  categories: readonly string[];
  cities: ReadonlyArray<{ name: string; lat: number; lon: number }>;
  shoppers: readonly string[];
}

/** What a route handler may use: the application services, the metrics, the rate limiter, the body limit, the demo's pickers. */
export interface RouteServices {
  engine: Engine;
  /** The request rate limiter (Redis or in process), also behind the per-user event cap. */
  limiter: RateLimiter;
  metrics: Metrics;
  bodyLimit: number;
  demo: DemoContent | undefined;
}

export type OpenApiParam = { name: string; in: 'query' | 'path'; required?: boolean; schema: Record<string, unknown>; description?: string };

/**
 * One HTTP route, described once: the router mounts `handle` at `method path`, the access
 * middleware requires `scope` (none: public), and /openapi.json documents the route from the same
 * entry (`summary`, `params`, `requestBody`, `responses`).
 */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Koa style: `/v1/coupons/:id`. */
  path: string;
  scope: Scope | undefined;
  /** What the route reads or changes belongs to every tenant (rules, synonym sets): a key limited by a filter may not use it. */
  spansTenants?: boolean;
  summary: string;
  params?: OpenApiParam[];
  requestBody?: Record<string, unknown>;
  responses: Record<string, unknown>;
  handle(ctx: Context, services: RouteServices): Promise<void> | void;
}

// Helpers for the OpenAPI parts of a route.
export const queryParam = (name: string, schema: Record<string, unknown>, description?: string): OpenApiParam => ({
  name,
  in: 'query',
  schema,
  ...(description && { description }),
});
export const idParam: OpenApiParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_.@-]{1,128}$' } };
export const jsonBody = (schema: Record<string, unknown>, type = 'application/json') => ({ content: { [type]: { schema } } });
export const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const ERROR_TEXT: Record<number, string> = {
  400: 'invalid input; `details` names each field',
  401: 'no API key, or an unknown, revoked or expired one',
  403: 'the API key lacks the scope',
  404: 'not found',
  413: 'body too large',
  429: 'rate limited (Retry-After)',
  503: 'a dependency is unavailable, the queue is full, the request timed out, or a reindex is required (Retry-After)',
};
/** Error responses, all `{ error: { code, message, details? } }`. */
export const errorResponses = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: ERROR_TEXT[c] ?? 'error', ...jsonBody(schemaRef('Error')) }]));
/** What any scoped route may answer besides its own statuses. */
export const COMMON_ERRORS = [401, 403, 429, 503];

/** `/v1/coupons/:id` → `/v1/coupons/{id}` (OpenAPI) and a matcher for the access middleware. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');
export const pathMatcher = (path: string) => new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\?:\w+/g, '[^/]+')}$`);
