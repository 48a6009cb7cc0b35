import { discountPercent } from '../../domain/coupon.ts';
import { nearestDistanceKm } from '../../domain/geo.ts';
import type { Candidate, SearchContext, Stage } from '../context.ts';
import type { SortOrder } from '../sort-order.ts';

/** Each order's key, smaller first; a coupon without the key (no store, no price) goes last. */
const KEYS: Record<Exclude<SortOrder, 'relevance'>, (c: Candidate, ctx: SearchContext) => number> = {
  discount: (c) => -discountPercent(c.coupon),
  ending_soon: (c) => Date.parse(c.coupon.valid_until),
  distance: (c, ctx) => (ctx.request.origin ? nearestDistanceKm(ctx.request.origin, c.coupon.locations) : undefined) ?? Infinity,
  newest: (c) => -Date.parse(c.coupon.valid_from),
};

/**
 * `sort=discount|ending_soon|distance|newest`: the same candidates, under the same filter, in
 * another order; ties keep their relevance order (the sort is stable over the ranked, diversified
 * list). Reported under `page` in explain and Server-Timing, with which the page is cut.
 */
export const sortResults: Stage = {
  name: 'page',
  part: 'sort',
  run(ctx) {
    const order = ctx.request.surface === 'search' ? (ctx.request.sort ?? 'relevance') : 'relevance';
    if (order === 'relevance') return ctx;
    const key = KEYS[order];
    const keyed = ctx.candidates.map((c, i) => ({ c, i, k: key(c, ctx) }));
    keyed.sort((a, b) => a.k - b.k || a.i - b.i);
    return { ...ctx, candidates: keyed.map((x) => x.c), notes: { ...ctx.notes, page: `sorted by ${order.replace('_', ' ')}, ties by relevance` } };
  },
};
