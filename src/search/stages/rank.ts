import type { Scorer, Stage } from '../context.ts';

/** The fused score as it is: the scorer used until a learned ranker is loaded, and its fallback. */
export const fusedScorer: Scorer = {
  name: 'fused',
  async score(_ctx, candidates) {
    return candidates.map((c) => c.fused?.score ?? 0);
  },
};

/** Rescores every candidate with the configured scorer in one batched call, then sorts. */
export const rankCandidates: Stage = {
  name: 'rank',
  async run(ctx, { scorer }) {
    const scores = await scorer.score(ctx, ctx.candidates);
    const candidates = ctx.candidates
      .map((c, i) => ({ ...c, ranked: { ...c.ranked, score: scores[i]!, scorer: scorer.name } }))
      .sort((a, b) => b.ranked.score - a.ranked.score || a.id.localeCompare(b.id));
    return { ...ctx, candidates, notes: { ...ctx.notes, rank: `scored ${candidates.length} candidates with '${scorer.name}'` } };
  },
};
