import type { SearchContext, SearchDeps, SearchRequest, Stage } from './context.ts';
import { applyBoosts } from './stages/boost.ts';
import { correctTypos } from './stages/correct.ts';
import { diversifyByMerchant } from './stages/diversify.ts';
import { embedQuery } from './stages/embed.ts';
import { countFacets, startFacetRetrievals } from './stages/facets.ts';
import { fuseQueryLists, fuseRecommendationLists } from './stages/fuse.ts';
import { interleaveRankers } from './stages/interleave.ts';
import { pageResults } from './stages/page.ts';
import { retrieveParaphrases } from './stages/paraphrase.ts';
import { rankCandidates } from './stages/rank.ts';
import { retrieveByQuery, retrieveForUser, retrieveSimilar } from './stages/retrieve.ts';
import { applyRules, matchRules, placePins } from './stages/rules.ts';
import { sortResults } from './stages/sort.ts';
import { expandSynonyms } from './stages/synonyms.ts';
import { understandPhrases } from './stages/understand.ts';

/** The search path, in order. Each stage is a plain function over the context. */
export const SEARCH_STAGES: readonly Stage[] = [
  understandPhrases,
  correctTypos,
  expandSynonyms,
  embedQuery,
  startFacetRetrievals,
  matchRules,
  retrieveByQuery,
  retrieveParaphrases,
  fuseQueryLists,
  rankCandidates,
  interleaveRankers,
  applyRules,
  applyBoosts,
  diversifyByMerchant,
  sortResults,
  placePins,
  countFacets,
  pageResults,
];

/** "Similar coupons": the same path from the fusion on, fed by the seed coupon's neighbours. */
export const SIMILAR_STAGES: readonly Stage[] = [retrieveSimilar, fuseRecommendationLists, rankCandidates, diversifyByMerchant, pageResults];

/** A user's feed: behaviour retrieval (or regional popularity and the recent query), then the same stages as search. */
export const RECOMMEND_STAGES: readonly Stage[] = [embedQuery, retrieveForUser, fuseRecommendationLists, rankCandidates, diversifyByMerchant, pageResults];

/** Runs the stages in order; an aborted `signal` (the request's deadline passed) stops before the next stage. */
export async function runPipeline(stages: readonly Stage[], request: SearchRequest, deps: SearchDeps, signal?: AbortSignal): Promise<SearchContext> {
  let ctx: SearchContext = { request, queryText: request.query, candidates: [], total: 0, timings: {}, parts: {}, notes: {} };
  for (const stage of stages) {
    signal?.throwIfAborted();
    const started = performance.now();
    ctx = await stage.run(ctx, deps);
    // Stages of one name (retrieval by words, then by meaning) add up under it.
    const ms = performance.now() - started;
    ctx.timings[stage.name] = (ctx.timings[stage.name] ?? 0) + ms;
    if (stage.part) ctx.parts[`${stage.name}-${stage.part}`] = ms;
  }
  return ctx;
}
