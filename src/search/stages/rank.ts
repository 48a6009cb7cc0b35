import type { ScoredBatch, Scorer, Stage } from '../context.ts';

/** The fused score as it is: the scorer used until a learned ranker is loaded, and its fallback. */
export const fusedScorer: Scorer = {
  name: 'fused',
  async score(_ctx, candidates) {
    return { scores: candidates.map((c) => c.fused?.score ?? 0) };
  },
};

/**
 * Rescores every candidate with the configured scorer in one batched call, then sorts. If the
 * scorer fails, the fused order stands and the note says why: search never fails on the ranker.
 */
export const rankCandidates: Stage = {
  name: 'rank',
  async run(ctx, { scorer }) {
    let batch: ScoredBatch;
    let used = scorer;
    let note = '';
    try {
      batch = await scorer.score(ctx, ctx.candidates);
    } catch (error) {
      used = fusedScorer;
      batch = await fusedScorer.score(ctx, ctx.candidates);
      note = ` ('${scorer.name}' failed: ${(error as Error).message}; fused order kept)`;
    }
    const candidates = ctx.candidates
      .map((c, i) => ({ ...c, ranked: { score: batch.scores[i]!, scorer: used.name, ...(batch.features && { features: batch.features[i]! }) } }))
      .sort((a, b) => b.ranked.score - a.ranked.score || a.id.localeCompare(b.id));
    return { ...ctx, candidates, notes: { ...ctx.notes, rank: `scored ${candidates.length} candidates with '${used.name}'${note}` } };
  },
};
