import { withinUserEventCap } from '../../access/rate-limit.ts';
import { eventBatchSchema } from '../../domain/event.ts';
import { RateLimitedError } from '../../errors.ts';
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
          properties: {
            accepted: { type: 'integer' },
            duplicates: { type: 'integer' },
            job_id: { type: 'string' },
            rate_limited: { type: 'integer', description: "events over the key's cap per user per minute, not stored" },
          },
        }),
      },
      ...errorResponses(400, 403, 413, ...COMMON_ERRORS),
    },
    /**
     * A batch of up to 1,000 interaction events; idempotent on event_id. Each is stored with the key
     * that posted it; a scoped key may only name coupons inside its filter (403); events over the
     * key's cap per user per minute are left out and counted (429 when none is left).
     */
    async handle(ctx, { engine, metrics, bodyLimit, limiter }) {
      const { events } = parseOrThrow(eventBatchSchema, await readJson(ctx, bodyLimit, { allowTextPlain: true }));
      const keyId: string | undefined = ctx.state.apiKey;
      const cap = await withinUserEventCap(limiter, keyId ?? 'anonymous', events, engine.config.access.eventsPerUserPerMinute);
      if (cap.kept.length === 0) throw new RateLimitedError(cap.retryAfterSeconds);
      const result = await engine.recordEvents(cap.kept, { requestId: ctx.state.requestId, keyId, keyFilter: ctx.state.keyFilter });
      metrics.eventsAccepted.inc(result.accepted);
      ctx.status = 202;
      ctx.body = cap.over ? { ...result, rate_limited: cap.over } : result;
    },
  },
];
