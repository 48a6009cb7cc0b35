import type { Context } from 'koa';
import { z } from 'zod';
import { completeCoupon, couponSchema } from '../../domain/coupon.ts';
import { parseOrThrow } from '../../domain/validation.ts';
import type { Engine } from '../../engine.ts';
import { ValidationError } from '../../errors.ts';
import { audit } from '../audit.ts';
import { readJson } from '../body.ts';
import { parseId, parseQuery, writeQuerySchema } from '../params.ts';
import { COMMON_ERRORS, errorResponses, idParam, jsonBody, queryParam as q, type RouteSpec, schemaRef } from '../route.ts';

export const MAX_BATCH = 1000;
const WAIT_MS = 30_000;

const batchSchema = z.strictObject({
  coupons: z.array(z.unknown()).min(1, 'needs at least one coupon').max(MAX_BATCH, `at most ${MAX_BATCH} coupons per batch`),
});

/** Answers 202 with the job, or, with `?wait=true`, the finished job (200) once it is done. */
async function accepted(ctx: Context, engine: Engine, jobId: string, wait: boolean): Promise<void> {
  if (wait) {
    const job = await engine.waitForJob(jobId, WAIT_MS);
    ctx.status = job.state === 'completed' ? 200 : 202;
    ctx.body = { job_id: jobId, job };
    return;
  }
  ctx.status = 202;
  ctx.body = { job_id: jobId, status_url: `/v1/jobs/${jobId}` };
}

const queued = { description: 'queued', ...jsonBody(schemaRef('Accepted')) };
const done = { description: 'done (wait=true)', ...jsonBody(schemaRef('Accepted')) };
const jobIdSchema = z
  .string()
  .min(1)
  .max(300)
  .regex(/^[\w.@-]+$/, 'not a job id');

export const couponRoutes: RouteSpec[] = [
  {
    method: 'PUT',
    path: '/v1/coupons/:id',
    scope: 'write',
    summary: 'Create or replace a coupon (queued)',
    params: [idParam, q('wait', { type: 'boolean', default: false }, 'wait up to 30 s for the job')],
    requestBody: { required: true, ...jsonBody(schemaRef('Coupon')) },
    responses: { 200: done, 202: queued, ...errorResponses(400, 413, ...COMMON_ERRORS) },
    async handle(ctx, { engine, bodyLimit }) {
      const id = parseId(ctx.params.id);
      const { wait } = parseQuery(writeQuerySchema, ctx.query);
      const body = await readJson(ctx, bodyLimit);
      if (body && typeof body === 'object' && 'id' in body && (body as { id: unknown }).id !== id) {
        throw new ValidationError([{ field: 'id', message: `body id must match the path id '${id}'` }]);
      }
      const coupon = completeCoupon(parseOrThrow(couponSchema, { ...(body as object), id }));
      const [jobId] = await engine.upsertCoupons([coupon], ctx.state.requestId);
      audit(ctx, { action: 'coupon.upsert', target: id, change: { version: coupon.version, job_id: jobId } });
      await accepted(ctx, engine, jobId!, wait);
    },
  },
  {
    method: 'POST',
    path: '/v1/coupons/batch',
    scope: 'write',
    summary: 'Create or replace up to 1,000 coupons (queued)',
    requestBody: {
      required: true,
      ...jsonBody({
        type: 'object',
        required: ['coupons'],
        properties: { coupons: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: schemaRef('Coupon') } },
      }),
    },
    responses: {
      202: {
        description: 'queued',
        ...jsonBody({
          type: 'object',
          required: ['job_ids', 'count'],
          properties: { job_ids: { type: 'array', items: { type: 'string' } }, count: { type: 'integer' } },
        }),
      },
      ...errorResponses(400, 413, ...COMMON_ERRORS),
    },
    async handle(ctx, { engine, bodyLimit }) {
      await engine.admit(1); // a full queue refuses before parsing up to a thousand coupons
      const { coupons } = parseOrThrow(batchSchema, await readJson(ctx, bodyLimit));
      const now = new Date();
      const parsed = coupons.map((c, i) => completeCoupon(parseOrThrow(couponSchema, c, `coupons.${i}`), now));
      const jobIds = await engine.upsertCoupons(parsed, ctx.state.requestId);
      audit(
        ctx,
        ...parsed.map((c, i) => ({ action: 'coupon.upsert' as const, target: c.id, change: { version: c.version, job_id: jobIds[i], batch: parsed.length } })),
      );
      ctx.status = 202;
      ctx.body = { job_ids: jobIds, count: jobIds.length };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/coupons/:id',
    scope: 'write',
    summary: 'Delete a coupon (queued)',
    params: [idParam, q('wait', { type: 'boolean', default: false })],
    responses: { 200: done, 202: queued, ...errorResponses(400, ...COMMON_ERRORS) },
    async handle(ctx, { engine }) {
      const id = parseId(ctx.params.id);
      const { wait } = parseQuery(writeQuerySchema, ctx.query);
      const jobId = await engine.deleteCoupon(id, ctx.state.requestId);
      audit(ctx, { action: 'coupon.delete', target: id, change: { job_id: jobId } });
      await accepted(ctx, engine, jobId, wait);
    },
  },
  {
    method: 'GET',
    path: '/v1/coupons/:id',
    scope: 'search',
    summary: 'One coupon',
    params: [idParam],
    responses: { 200: { description: 'the coupon', ...jsonBody({ type: 'object' }) }, ...errorResponses(400, 404, ...COMMON_ERRORS) },
    async handle(ctx, { engine }) {
      ctx.body = await engine.getCoupon(parseId(ctx.params.id), ctx.state.keyFilter);
    },
  },
  {
    method: 'GET',
    path: '/v1/jobs/:id',
    scope: 'write',
    summary: 'An indexing job',
    params: [{ ...idParam, schema: { type: 'string' } }],
    responses: { 200: { description: 'the job', ...jsonBody(schemaRef('Job')) }, ...errorResponses(400, 404, ...COMMON_ERRORS) },
    async handle(ctx, { engine }) {
      ctx.body = await engine.job(parseOrThrow(jobIdSchema, ctx.params.id, 'id'));
    },
  },
  {
    method: 'POST',
    path: '/v1/reindex',
    scope: 'write',
    summary: 'Rebuild every vector (queued)',
    responses: { 202: queued, ...errorResponses(...COMMON_ERRORS) },
    async handle(ctx, { engine }) {
      const jobId = await engine.reindex(ctx.state.requestId);
      audit(ctx, { action: 'reindex', target: '*', change: { job_id: jobId } });
      ctx.status = 202;
      ctx.body = { job_id: jobId, status_url: `/v1/jobs/${jobId}` };
    },
  },
];
