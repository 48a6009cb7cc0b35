import type Router from '@koa/router';
import { eventBatchSchema } from '../../domain/event.ts';
import { parseOrThrow } from '../../domain/validation.ts';
import type { Engine } from '../../engine.ts';
import { readJson } from '../body.ts';

export function eventRoutes(router: Router, engine: Engine, bodyLimit: number): void {
  /** A batch of up to 1,000 interaction events; idempotent on event_id. */
  router.post('/v1/events', async (ctx) => {
    const { events } = parseOrThrow(eventBatchSchema, await readJson(ctx, bodyLimit, { allowTextPlain: true }));
    ctx.status = 202;
    ctx.body = await engine.recordEvents(events);
  });
}
