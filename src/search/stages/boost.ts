import { matchesFilter } from '../../domain/filter.ts';
import type { Stage } from '../context.ts';

/**
 * Applies the context's boosts (understood preferences, merchandising rules) to the rank scores:
 * a candidate matching a boost's filter gains `weight` × the spread (max − min) of the rank scores,
 * so a weight is comparable whatever the scorer's scale. Weight 1 lifts a match to at least the
 * best unmatched score; 2 keeps matches above the rest through MMR, whose relevance is the
 * min–max-scaled score. Negative weights bury. Reported under `rank`, whose scores it changes.
 */
export const applyBoosts: Stage = {
  name: 'rank',
  part: 'boosts',
  run(ctx) {
    const boosts = ctx.boosts ?? [];
    if (!boosts.length || !ctx.candidates.length) return ctx;
    const scores = ctx.candidates.map((c) => c.ranked?.score ?? c.fused?.score ?? 0);
    const spread = Math.max(...scores) - Math.min(...scores) || 1;
    const matched = boosts.map(() => 0);
    const candidates = ctx.candidates
      .map((c, i) => {
        let added = 0;
        const by: string[] = [];
        boosts.forEach((b, j) => {
          if (!matchesFilter(c.coupon, b.filter)) return;
          added += b.weight * spread;
          by.push(b.reason);
          matched[j]!++;
        });
        if (!by.length) return { c, i, score: scores[i]! };
        const score = scores[i]! + added;
        return { c: { ...c, ranked: c.ranked && { ...c.ranked, score }, boosted: { added, by } }, i, score };
      })
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .map((x) => x.c);
    const summary = boosts.map((b, j) => `${b.reason} ×${b.weight}: ${matched[j]} matched`).join('; ');
    return { ...ctx, candidates, notes: { ...ctx.notes, rank: `${ctx.notes.rank ?? ''}; boosts: ${summary}` } };
  },
};
