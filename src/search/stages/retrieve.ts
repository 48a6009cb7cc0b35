import { allOf, servableAt } from '../../domain/filter.ts';
import { NotFoundError } from '../../errors.ts';
import type { Hit } from '../../store/vector-store.ts';
import type { Candidate, SearchContext, Stage } from '../context.ts';

/** The filter every retrieval runs under: the caller's, plus "active and valid now". */
function effectiveFilter(ctx: SearchContext) {
  return allOf(servableAt(ctx.request.now), ctx.request.filter);
}

function merge(into: Map<string, Candidate>, hits: Hit[], key: 'dense' | 'lexical'): void {
  hits.forEach((hit, i) => {
    const c = into.get(hit.id) ?? { id: hit.id, coupon: hit.coupon, vector: hit.vector };
    c.vector ??= hit.vector;
    c[key] = { rank: i + 1, score: hit.score };
    into.set(hit.id, c);
  });
}

/** Dense kNN and BM25, in parallel, under the same filter. */
export const retrieveByQuery: Stage = {
  name: 'retrieve',
  async run(ctx, { store, settings }) {
    const filter = effectiveFilter(ctx);
    const options = { k: settings.candidates, filter, withVectors: true };
    const [dense, lexical] = await Promise.all([
      ctx.queryVector ? store.knn(ctx.queryVector, options) : Promise.resolve([]),
      store.lexical(ctx.request.query, options),
    ]);
    const byId = new Map<string, Candidate>();
    merge(byId, dense, 'dense');
    merge(byId, lexical, 'lexical');
    return {
      ...ctx,
      candidates: [...byId.values()],
      notes: { ...ctx.notes, retrieve: `${dense.length} dense and ${lexical.length} lexical candidates (${byId.size} distinct) under the filter` },
    };
  },
};

/**
 * Nearest coupons to a seed coupon: its own vector as the query, itself excluded, and
 * near-duplicates from the same merchant (the same offer re-listed) dropped.
 */
export const retrieveSimilar: Stage = {
  name: 'retrieve',
  async run(ctx, { store, settings }) {
    const seedId = ctx.request.seedId!;
    const seed = (await store.get([seedId], { withVectors: true })).get(seedId);
    if (!seed?.vector) throw new NotFoundError('coupon', seedId);
    const filter = allOf(effectiveFilter(ctx), { not: { id: [seedId] } });
    const hits = await store.knn(seed.vector, { k: settings.candidates, filter, withVectors: true });
    const kept = hits.filter((h) => !(h.coupon.merchant.id === seed.coupon.merchant.id && h.score >= settings.nearDuplicateCosine));
    const byId = new Map<string, Candidate>();
    merge(byId, kept, 'dense');
    return {
      ...ctx,
      queryVector: seed.vector,
      candidates: [...byId.values()],
      notes: { ...ctx.notes, retrieve: `${hits.length} neighbours of ${seedId}; ${hits.length - kept.length} same-merchant near-duplicates dropped` },
    };
  },
};
