import type { Candidate, ScoredBatch, Scorer, SearchContext } from '../search/context.ts';
import { idfLookup, prepareQuery, RANKING_FEATURES, rankingFeatures, type IdfLookup } from './features.ts';
import type { LearnedRanker } from './ranker.ts';

/**
 * The rank stage's learned scorer: ranking features for every fused candidate, one batched model
 * call. Without query text (similar coupons, feeds) it keeps the fused order.
 */
export class LearnedScorer implements Scorer {
  readonly name = 'ltr';
  private readonly idf: IdfLookup;

  constructor(private readonly ranker: LearnedRanker, idf: ReadonlyMap<string, number>, readonly version: string) {
    this.idf = idfLookup(idf);
  }

  async score(ctx: SearchContext, candidates: readonly Candidate[]): Promise<ScoredBatch> {
    if (!ctx.request.query.trim() || candidates.length === 0) return { scores: candidates.map((c) => c.fused?.score ?? 0) };
    const q = prepareQuery(ctx.request.query, { idf: this.idf, maxBm25: Math.max(0, ...candidates.map((c) => c.lexical?.score ?? 0)) });
    const rows = candidates.map((c) => rankingFeatures(q, { title: c.coupon.title, dense: c.dense, bm25: c.lexical, fusedRank: c.fused?.rank ?? candidates.length }));
    const scores = Array.from(this.ranker.scoreSync(rows));
    if (!ctx.request.explain) return { scores };
    return { scores, features: rows.map((r) => Object.fromEntries(RANKING_FEATURES.map((name, i) => [name, Math.round(r[i]! * 1e4) / 1e4]))) };
  }
}
