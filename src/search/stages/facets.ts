import type { Coupon } from '../../domain/coupon.ts';
import { allOf, conjuncts, type Filter } from '../../domain/filter.ts';
import type { SearchContext, SearchDeps, Stage } from '../context.ts';
import type { FacetPoolCache } from '../facet-pool-cache.ts';
import { constrainsFacet, countFacet, type FacetCounts, type FacetName } from '../facets.ts';
import { filterWithKey, queryLists } from './retrieve.ts';

function requestedFacets(ctx: SearchContext): readonly FacetName[] {
  return ctx.request.surface === 'search' ? (ctx.request.facets ?? []) : [];
}

/**
 * Disjunctive faceting needs, for each facet the filter constrains at its top level
 * ("category=food"), the candidates retrieved without that constraint: the other categories then
 * show what choosing them would give. When a recent search counted exactly that set (the same
 * query before the value was chosen: how faceted navigation goes), it is reused
 * (`FacetPoolCache`). Otherwise this stage starts the retrieval, without waiting, just before the
 * search's own, so the two run side by side; `countFacets` collects them. Part of `retrieve`.
 * The serving index scores the query's rows once for both (`store/serving/scan-memory.ts`).
 */
export const startFacetRetrievals: Stage = {
  name: 'retrieve',
  part: 'facets',
  run(ctx, deps) {
    const facets = requestedFacets(ctx);
    if (!facets.length) return ctx;
    const nodes = conjuncts(ctx.request.filter);
    const pools: NonNullable<SearchContext['facetPools']> = {};
    for (const facet of facets) {
      if (!nodes.some((n) => constrainsFacet(facet, n))) continue;
      const relaxed = nodes.filter((n) => !constrainsFacet(facet, n));
      const recent = deps.facetPoolCache?.recall(poolKey(deps.facetPoolCache, ctx, relaxed));
      // Settled to a value either way: an abandoned request must not leave a rejection unhandled.
      pools[facet] = recent
        ? { from: 'recent', pool: Promise.resolve(recent) }
        : { from: 'retrieval', pool: retrieveWithout(ctx, deps, relaxed).catch((error: Error) => error) };
    }
    return Object.keys(pools).length ? { ...ctx, facetPools: pools } : ctx;
  },
};

/**
 * Facet counts over the candidates (what the search retrieved under its filter), before paging;
 * a facet the filter constrains is counted over its own retrieval (`startFacetRetrievals`).
 * Reported under `page`, with the response's assembly.
 */
export const countFacets: Stage = {
  name: 'page',
  part: 'facets',
  async run(ctx, { facetPoolCache }) {
    const facets = requestedFacets(ctx);
    if (!facets.length) return ctx;
    const own = ctx.candidates.map((c) => c.coupon);
    // The set counted here, for a next request that chooses a value of one of these facets.
    facetPoolCache?.remember(poolKey(facetPoolCache, ctx, conjuncts(ctx.request.filter)), own);
    const relaxed: string[] = [];
    const failed: string[] = [];
    const entries = await Promise.all(
      facets.map(async (facet): Promise<[FacetName, ReturnType<typeof countFacet>]> => {
        const source = ctx.facetPools?.[facet];
        const pool = await source?.pool;
        if (pool instanceof Error) failed.push(`${facet} (${pool.message})`);
        else if (pool) relaxed.push(`${facet}${source!.from === 'recent' ? ' (the set a recent search counted)' : ''}`);
        return [facet, countFacet(facet, pool && !(pool instanceof Error) ? pool : own, ctx.request.origin)];
      }),
    );
    const parts = [`facets ${facets.join(', ')} counted over ${own.length} candidates`];
    if (relaxed.length) parts.push(`${relaxed.join(', ')} over the candidates without their own filter`);
    if (failed.length) parts.push(`disjunctive counts failed for ${failed.join(', ')}: counted over the candidates`);
    const note = parts.join('; ');
    return { ...ctx, facets: Object.fromEntries(entries) as FacetCounts, notes: { ...ctx.notes, page: ctx.notes.page ? `${ctx.notes.page}; ${note}` : note } };
  },
};

/** What a set of search candidates was retrieved for: the query as searched, the key's filter and `nodes`. */
function poolKey(cache: FacetPoolCache, ctx: SearchContext, nodes: readonly Filter[]): string {
  return cache.key(ctx.queryForms ?? [ctx.queryText], ctx.request.keyFilter, nodes);
}

/** The same retrieval as the search's (dense and lexical, same depth), under the remaining filter nodes (the key's filter always stays). */
async function retrieveWithout(ctx: SearchContext, deps: SearchDeps, nodes: readonly Filter[]): Promise<Coupon[]> {
  const [dense, lexical] = await queryLists(ctx, deps, filterWithKey(ctx, allOf(...nodes)), false);
  const byId = new Map<string, Coupon>();
  for (const hit of [...dense, ...lexical]) byId.set(hit.id, hit.coupon);
  return [...byId.values()];
}
