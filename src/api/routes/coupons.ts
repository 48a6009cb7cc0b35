import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { completeCoupon, couponSchema } from '../../domain/coupon.ts';
import { parseOrThrow } from '../../domain/validation.ts';
import type { Engine } from '../../engine.ts';
import { ValidationError } from '../../errors.ts';
import { readJson } from '../body.ts';
import { parseId, parseQuery, writeQuerySchema } from '../params.ts';

export const MAX_BATCH = 1000;
const WAIT_MS = 30_000;

const batchSchema = z.strictObject({
  coupons: z.array(z.unknown()).min(1, 'needs at least one coupon').max(MAX_BATCH, `at most ${MAX_BATCH} coupons per batch`),
});

/** Answers 202 with the job, or, with `?wait=true`, the finished job (200) once it is done. */
async function accepted(ctx: Context, engine: Engine, jobId: string, wait: boolean): Promise<void> {
  if (wait) {
    const deadline = Date.now() + WAIT_MS;
    let job = await engine.job(jobId);
    while (job.state !== 'completed' && job.state !== 'failed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      job = await engine.job(jobId);
    }
    ctx.status = job.state === 'completed' ? 200 : 202;
    ctx.body = { job_id: jobId, job };
    return;
  }
  ctx.status = 202;
  ctx.body = { job_id: jobId, status_url: `/v1/jobs/${jobId}` };
}

export function couponRoutes(router: Router, engine: Engine, bodyLimit: number): void {
  router.put('/v1/coupons/:id', async (ctx) => {
    const id = parseId(ctx.params.id);
    const { wait } = parseQuery(writeQuerySchema, ctx.query);
    const body = await readJson(ctx, bodyLimit);
    if (body && typeof body === 'object' && 'id' in body && (body as { id: unknown }).id !== id) {
      throw new ValidationError([{ field: 'id', message: `body id must match the path id '${id}'` }]);
    }
    const coupon = completeCoupon(parseOrThrow(couponSchema, { ...(body as object), id }));
    const [jobId] = await engine.upsertCoupons([coupon], ctx.state.requestId);
    await accepted(ctx, engine, jobId!, wait);
  });

  router.post('/v1/coupons/batch', async (ctx) => {
    await engine.admit(1); // a full queue refuses before parsing up to a thousand coupons
    const { coupons } = parseOrThrow(batchSchema, await readJson(ctx, bodyLimit));
    const now = new Date();
    const parsed = coupons.map((c, i) => completeCoupon(parseOrThrow(couponSchema, c, `coupons.${i}`), now));
    const jobIds = await engine.upsertCoupons(parsed, ctx.state.requestId);
    ctx.status = 202;
    ctx.body = { job_ids: jobIds, count: jobIds.length };
  });

  router.delete('/v1/coupons/:id', async (ctx) => {
    const id = parseId(ctx.params.id);
    const { wait } = parseQuery(writeQuerySchema, ctx.query);
    await accepted(ctx, engine, await engine.deleteCoupon(id, ctx.state.requestId), wait);
  });

  router.get('/v1/coupons/:id', async (ctx) => {
    ctx.body = await engine.getCoupon(parseId(ctx.params.id));
  });

  router.get('/v1/jobs/:id', async (ctx) => {
    const id = parseOrThrow(
      z
        .string()
        .min(1)
        .max(300)
        .regex(/^[\w.@-]+$/, 'not a job id'),
      ctx.params.id,
      'id',
    );
    ctx.body = await engine.job(id);
  });

  router.post('/v1/reindex', async (ctx) => {
    const jobId = await engine.reindex(ctx.state.requestId);
    ctx.status = 202;
    ctx.body = { job_id: jobId, status_url: `/v1/jobs/${jobId}` };
  });
}
