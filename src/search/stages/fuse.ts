import type { Stage } from '../context.ts';

/**
 * Reciprocal rank fusion (Cormack et al. 2009): score = Σ 1 / (k + rank) over the lists a candidate
 * appears in (dense, lexical, behaviour, popularity). Rank-based, so BM25 scores and cosines need no common scale.
 */
export const fuseByReciprocalRank: Stage = {
  name: 'fuse',
  run(ctx, { settings }) {
    const k = settings.rrfK;
    const scored = ctx.candidates.map((c) => ({
      c,
      score: [c.dense, c.lexical, c.behavior, c.popularity].reduce((sum, list) => sum + (list ? 1 / (k + list.rank) : 0), 0),
    }));
    scored.sort((a, b) => b.score - a.score || a.c.id.localeCompare(b.c.id));
    const candidates = scored.map(({ c, score }, i) => ({ ...c, fused: { rank: i + 1, score } }));
    const several = candidates.filter((c) => [c.dense, c.lexical, c.behavior, c.popularity].filter(Boolean).length > 1).length;
    return {
      ...ctx,
      candidates,
      notes: { ...ctx.notes, fuse: `RRF (k=${k}) over ${candidates.length} candidates, ${several} found by more than one retriever` },
    };
  },
};
