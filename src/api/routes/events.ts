import { eventBatchSchema } from '../../domain/event.ts';
import { parseOrThrow } from '../../domain/validation.ts';
import { readJson } from '../body.ts';
import { COMMON_ERRORS, errorResponses, jsonBody, type RouteSpec, schemaRef } from '../route.ts';

export const eventRoutes: RouteSpec[] = [
  {
    method: 'POST',
    path: '/v1/events',
    scope: 'events',
    summary: 'Record interaction events (idempotent on event_id)',
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: schemaRef('EventBatch') },
        'text/plain': { schema: { type: 'string', description: 'the same JSON (navigator.sendBeacon)' } },
      },
    },
    responses: {
      202: {
        description: 'stored',
        ...jsonBody({
          type: 'object',
          required: ['accepted', 'duplicates'],
          properties: { accepted: { type: 'integer' }, duplicates: { type: 'integer' }, job_id: { type: 'string' } },
        }),
      },
      ...errorResponses(400, 413, ...COMMON_ERRORS),
    },
    /** A batch of up to 1,000 interaction events; idempotent on event_id. */
    async handle(ctx, { engine, metrics, bodyLimit }) {
      const { events } = parseOrThrow(eventBatchSchema, await readJson(ctx, bodyLimit, { allowTextPlain: true }));
      const result = await engine.recordEvents(events, ctx.state.requestId);
      metrics.eventsAccepted.inc(result.accepted);
      ctx.status = 202;
      ctx.body = result;
    },
  },
];
