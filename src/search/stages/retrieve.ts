import { allOf, type Filter, matchesFilter, servableAt } from '../../domain/filter.ts';
import { NotFoundError } from '../../errors.ts';
import type { Hit } from '../../store/vector-store.ts';
import type { Candidate, SearchContext, SearchDeps, Stage } from '../context.ts';

/** The filter every retrieval runs under, and every served coupon passes: the caller's, the API key's, and "active and valid now". */
export function effectiveFilter(ctx: SearchContext) {
  return filterWithKey(ctx, ctx.request.filter);
}

/**
 * `filter` (the caller's, or for a facet's disjunctive count the caller's less that facet's
 * nodes) with what the caller can never drop: the API key's filter and "active and valid now".
 */
export function filterWithKey(ctx: SearchContext, filter: Filter | undefined) {
  return allOf(servableAt(ctx.request.now), ctx.request.keyFilter, filter);
}

function merge(into: Map<string, Candidate>, hits: Hit[], key: 'dense' | 'lexical' | 'behavior' | 'popularity'): void {
  hits.forEach((hit, i) => {
    const c = into.get(hit.id) ?? { id: hit.id, coupon: hit.coupon, vector: hit.vector, behaviorVector: hit.behavior };
    c.vector ??= hit.vector;
    c.behaviorVector ??= hit.behavior;
    c[key] = { rank: i + 1, score: hit.score };
    into.set(hit.id, c);
  });
}

/** A query's dense and lexical lists, in parallel, under one filter (also the facets' disjunctive counts). */
export function queryLists(ctx: SearchContext, { store, settings }: Pick<SearchDeps, 'store' | 'settings'>, filter: Filter | undefined, withVectors: boolean) {
  const options = { k: settings.candidates, filter, withVectors };
  return Promise.all([
    ctx.queryVector ? store.knn(ctx.queryVector, options) : Promise.resolve([]),
    // Synonym forms widen the words searched for ("tv" finds "television" too).
    store.lexical(ctx.queryForms ? ctx.queryForms.join(' ') : ctx.queryText, options),
  ]);
}

/** Dense kNN and BM25, in parallel, under the same filter. */
export const retrieveByQuery: Stage = {
  name: 'retrieve',
  async run(ctx, deps) {
    const [dense, lexical] = await queryLists(ctx, deps, effectiveFilter(ctx), true);
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
 * Nearest coupons to a seed coupon — by text (`content`), by the recommender's coupon vectors
 * (`behavior`: bought by the same people), or both fused (`blend`) — itself excluded, and
 * same-merchant near-duplicates by text (the same offer re-listed) dropped.
 */
export const retrieveSimilar: Stage = {
  name: 'retrieve',
  async run(ctx, { store, settings }) {
    const { request } = ctx;
    if (request.surface !== 'similar') throw new Error(`retrieveSimilar runs on similar requests, not ${request.surface}`);
    const { seedId, mode } = request;
    const seed = (await store.get([seedId], { withVectors: true })).get(seedId);
    // A seed outside the key's filter is as unknown to that key as a missing one.
    if (!seed?.vector || (request.keyFilter && !matchesFilter(seed.coupon, request.keyFilter))) throw new NotFoundError('coupon', seedId);
    const filter = allOf(effectiveFilter(ctx), { not: { id: [seedId] } });
    const options = { k: settings.candidates, filter, withVectors: true };
    const [byText, byBehavior] = await Promise.all([
      mode !== 'behavior' ? store.knn(seed.vector, options) : Promise.resolve([]),
      mode !== 'content' && seed.behavior ? store.knnBehavior(seed.behavior, options) : Promise.resolve([]),
    ]);
    const duplicate = new Set(
      byText.filter((h) => h.coupon.merchant.id === seed.coupon.merchant.id && h.score >= settings.nearDuplicateCosine).map((h) => h.id),
    );
    const byId = new Map<string, Candidate>();
    merge(
      byId,
      byText.filter((h) => !duplicate.has(h.id)),
      'dense',
    );
    merge(
      byId,
      byBehavior.filter((h) => !duplicate.has(h.id)),
      'behavior',
    );
    const behaviorNote = mode === 'content' ? '' : seed.behavior ? `, ${byBehavior.length} by behaviour` : ', no behaviour vector (no recommender model)';
    return {
      ...ctx,
      queryVector: seed.vector,
      candidates: [...byId.values()],
      notes: {
        ...ctx.notes,
        retrieve: `mode ${mode}: ${byText.length} neighbours of ${seedId} by text${behaviorNote}; ${duplicate.size} same-merchant near-duplicates dropped`,
      },
    };
  },
};

/**
 * Candidates for a user's feed: nearest coupons to the user's behaviour vector, or — for a user
 * the recommender cannot place — context: the most engaged-with coupons that pass the filter
 * (which carries the shopper's location, so this is regional popularity), plus, when the caller
 * passes the shopper's latest query, the coupons nearest to it by text.
 */
export const retrieveForUser: Stage = {
  name: 'retrieve',
  async run(ctx, { store, events, settings }) {
    const filter = effectiveFilter(ctx);
    const byId = new Map<string, Candidate>();
    const userVector = ctx.request.surface === 'feed' ? ctx.request.userVector : undefined;
    if (userVector) {
      const hits = await store.knnBehavior(userVector, { k: settings.candidates, filter, withVectors: true });
      merge(byId, hits, 'behavior');
      return {
        ...ctx,
        candidates: [...byId.values()],
        notes: { ...ctx.notes, retrieve: `${hits.length} nearest coupons to the user's behaviour vector under the filter` },
      };
    }
    const popular = (await events?.popular(Math.max(settings.candidates * 5, 1000))) ?? [];
    const found = await store.get(
      popular.map((p) => p.couponId),
      { withVectors: true },
    );
    const hits: Hit[] = popular
      .filter((p) => found.has(p.couponId) && (!filter || matchesFilter(found.get(p.couponId)!.coupon, filter)))
      .slice(0, settings.candidates)
      .map((p) => ({
        id: p.couponId,
        score: p.score,
        coupon: found.get(p.couponId)!.coupon,
        vector: found.get(p.couponId)!.vector,
        behavior: found.get(p.couponId)!.behavior,
      }));
    merge(byId, hits, 'popularity');
    const byQuery = ctx.queryVector ? await store.knn(ctx.queryVector, { k: settings.candidates, filter, withVectors: true }) : [];
    merge(byId, byQuery, 'dense');
    const queryNote = ctx.queryVector ? ` and ${byQuery.length} nearest to the recent query` : '';
    return {
      ...ctx,
      candidates: [...byId.values()],
      notes: { ...ctx.notes, retrieve: `unknown user: ${hits.length} most engaged-with coupons under the filter (regional popularity)${queryNote}` },
    };
  },
};
