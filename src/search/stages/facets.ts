import type { Coupon } from '../../domain/coupon.ts';
import { allOf, type Filter, servableAt } from '../../domain/filter.ts';
import type { SearchContext, SearchDeps, Stage } from '../context.ts';
import { queryLists } from './retrieve.ts';
import { conjuncts, constrainsFacet, countFacet, type FacetCounts, type FacetName } from '../facets.ts';

/**
 * Facet counts over the candidates (what the search retrieved under its filter), before paging.
 * A facet the filter constrains at its top level ("category=food") is counted over the candidates
 * retrieved without that constraint, so the other categories still show what choosing them would
 * give (disjunctive faceting); that costs one more retrieval per such facet. Reported under `page`.
 */
export const countFacets: Stage = {
  name: 'page',
  async run(ctx, deps) {
    const facets = ctx.request.surface === 'search' ? (ctx.request.facets ?? []) : [];
    if (!facets.length) return ctx;
    const nodes = conjuncts(ctx.request.filter);
    const own = ctx.candidates.map((c) => c.coupon);
    const relaxed: string[] = [];
    const entries = await Promise.all(
      facets.map(async (facet): Promise<[FacetName, ReturnType<typeof countFacet>]> => {
        if (!nodes.some((n) => constrainsFacet(facet, n))) return [facet, countFacet(facet, own, ctx.request.origin)];
        relaxed.push(facet);
        const coupons = await retrieveWithout(
          ctx,
          deps,
          nodes.filter((n) => !constrainsFacet(facet, n)),
        );
        return [facet, countFacet(facet, coupons, ctx.request.origin)];
      }),
    );
    const note = `facets ${facets.join(', ')} counted over ${own.length} candidates${relaxed.length ? ` (${relaxed.join(', ')}: over the candidates without their own filter)` : ''}`;
    return { ...ctx, facets: Object.fromEntries(entries) as FacetCounts, notes: { ...ctx.notes, page: ctx.notes.page ? `${ctx.notes.page}; ${note}` : note } };
  },
};

/** The same retrieval as the search's (dense and lexical, same depth), under the remaining filter nodes. */
async function retrieveWithout(ctx: SearchContext, deps: SearchDeps, nodes: readonly Filter[]): Promise<Coupon[]> {
  const [dense, lexical] = await queryLists(ctx, deps, allOf(servableAt(ctx.request.now), ...nodes), false);
  const byId = new Map<string, Coupon>();
  for (const hit of [...dense, ...lexical]) byId.set(hit.id, hit.coupon);
  return [...byId.values()];
}
