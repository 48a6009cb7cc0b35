import type { Scorer, Stage } from '../context.ts';

/** The fused score as it is: the scorer used until a learned ranker is loaded, and its fallback. */
export const fusedScorer: Scorer = {
  name: 'fused',
  score: (_ctx, candidates) => candidates.map((c) => c.fused?.score ?? 0),
};

/**
 * Computes every candidate's ranking features (always: `explain` shows them and the served-list
 * log records them for training), rescores all candidates with the configured scorer in one
 * batched call, then sorts. If the scorer fails, the fused order stands and the note says why:
 * search never fails on the ranker.
 */
export const rankCandidates: Stage = {
  name: 'rank',
  async run(ctx, deps) {
    const { scorer } = deps;
    const { rows, note: featureNote } = await deps.features.compute(ctx, deps);
    let scores: number[];
    let used = scorer;
    let note = featureNote ? `; ${featureNote}` : '';
    try {
      scores = await scorer.score(ctx, ctx.candidates, rows);
    } catch (error) {
      used = fusedScorer;
      scores = await fusedScorer.score(ctx, ctx.candidates, rows);
      note += ` ('${scorer.name}' failed: ${(error as Error).message}; fused order kept)`;
    }
    const candidates = ctx.candidates
      .map((c, i) => ({ ...c, ranked: { score: scores[i]!, scorer: used.name, features: rows[i]! } }))
      .sort((a, b) => b.ranked.score - a.ranked.score || a.id.localeCompare(b.id));
    return {
      ...ctx,
      candidates,
      featureNames: deps.features.featureNames,
      notes: { ...ctx.notes, rank: `scored ${candidates.length} candidates with '${used.name}'${note}` },
    };
  },
};
