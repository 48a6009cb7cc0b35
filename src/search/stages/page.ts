import { hashString, seededRandom } from '../../util/random.ts';
import type { Candidate, Stage } from '../context.ts';

/**
 * Cuts the requested page; `total` keeps the number of candidates before the cut. With
 * exploration on, a share of pages gets one random adjacent pair swapped (RandPair, Joachims et al.
 * 2017): the same coupon is then seen at neighbouring positions, which is what lets the ranker's
 * training estimate how much position alone drives clicks. The swap is seeded by the query id.
 */
export const pageResults: Stage = {
  name: 'page',
  run(ctx, { settings }) {
    const { offset, limit, queryId } = ctx.request;
    let page = ctx.candidates.slice(offset, offset + limit);
    let explored = '';
    const rand = seededRandom(hashString(queryId));
    if (settings.exploration > 0 && page.length > 1 && rand() < settings.exploration) {
      const i = Math.floor(rand() * (page.length - 1));
      page = swap(page, i);
      explored = `; exploration swapped positions ${offset + i + 1} and ${offset + i + 2}`;
    }
    return {
      ...ctx,
      total: ctx.candidates.length,
      candidates: page,
      notes: {
        ...ctx.notes,
        page: `${ctx.notes.page ? `${ctx.notes.page}; ` : ''}results ${offset + 1}–${Math.min(offset + limit, ctx.candidates.length)} of ${ctx.candidates.length}${explored}`,
      },
    };
  },
};

function swap(page: Candidate[], i: number): Candidate[] {
  const out = [...page];
  [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
  return out;
}
