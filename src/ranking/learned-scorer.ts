import type { Candidate, Scorer, SearchContext } from '../search/context.ts';
import type { LearnedRanker } from './ranker.ts';

/**
 * The rank stage's learned scorer: one batched model call over the candidates' feature rows.
 * A model trained only on text queries (judgment data) keeps the fused order for requests without
 * query text (similar coupons, feeds), where every lexical feature it learned from is absent.
 */
export class LearnedScorer implements Scorer {
  readonly name = 'ltr';

  constructor(
    private readonly ranker: LearnedRanker,
    readonly version: string,
    /** Whether the training lists included requests without query text. */
    private readonly queryless: boolean,
  ) {}

  score(ctx: SearchContext, candidates: readonly Candidate[], features: readonly Float32Array[]): number[] {
    if (candidates.length === 0) return [];
    if (!ctx.request.query.trim() && !this.queryless) return candidates.map((c) => c.fused?.score ?? 0);
    return Array.from(this.ranker.scoreSync(features));
  }
}
