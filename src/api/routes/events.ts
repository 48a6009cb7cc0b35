import type Router from '@koa/router';
import { eventBatchSchema } from '../../domain/event.ts';
import { parseOrThrow } from '../../domain/validation.ts';
import type { Engine } from '../../engine.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { readJson } from '../body.ts';

export function eventRoutes(router: Router, engine: Engine, bodyLimit: number, metrics: Metrics): void {
  /** A batch of up to 1,000 interaction events; idempotent on event_id. */
  router.post('/v1/events', async (ctx) => {
    const { events } = parseOrThrow(eventBatchSchema, await readJson(ctx, bodyLimit, { allowTextPlain: true }));
    const result = await engine.recordEvents(events, ctx.state.requestId);
    metrics.eventsAccepted.inc(result.accepted);
    ctx.status = 202;
    ctx.body = result;
  });
}
