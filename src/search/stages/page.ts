import type { Stage } from '../context.ts';

/** Cuts the requested page; `total` keeps the number of candidates before the cut. */
export const pageResults: Stage = {
  name: 'page',
  run(ctx) {
    const { offset, limit } = ctx.request;
    return {
      ...ctx,
      total: ctx.candidates.length,
      candidates: ctx.candidates.slice(offset, offset + limit),
      notes: { ...ctx.notes, page: `results ${offset + 1}–${Math.min(offset + limit, ctx.candidates.length)} of ${ctx.candidates.length}` },
    };
  },
};
