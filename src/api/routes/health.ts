import { errorResponses, jsonBody, type RouteSpec, schemaRef } from '../route.ts';

/** Probes and metrics. The OpenAPI route lives in openapi.ts, which documents this table. */
export const healthRoutes: RouteSpec[] = [
  {
    method: 'GET',
    path: '/metrics',
    scope: 'metrics',
    summary: 'Prometheus metrics',
    responses: { 200: { description: 'text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errorResponses(401, 403, 503) },
    async handle(ctx, { metrics }) {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
    },
  },
  {
    method: 'GET',
    path: '/healthz',
    scope: undefined,
    summary: 'Liveness: the process answers',
    responses: { 200: { description: 'alive', ...jsonBody({ type: 'object', required: ['status'], properties: { status: { const: 'ok' } } }) } },
    handle(ctx) {
      ctx.body = { status: 'ok' };
    },
  },
  {
    method: 'GET',
    path: '/readyz',
    scope: undefined,
    summary: 'Readiness of every dependency',
    responses: { 200: { description: 'ready', ...jsonBody(schemaRef('Readiness')) }, 503: { description: 'not ready', ...jsonBody(schemaRef('Readiness')) } },
    async handle(ctx, { engine }) {
      const readiness = await engine.readiness();
      ctx.status = readiness.ready ? 200 : 503;
      ctx.body = readiness;
    },
  },
];
