import { dot } from '../../embed/embedder.ts';
import type { Candidate, Stage } from '../context.ts';

/**
 * Maximal marginal relevance (Carbonell & Goldstein 1998) over the visible page and everything
 * above it: each next pick maximises λ·relevance − (1−λ)·(max cosine to what is already picked),
 * relevance being the rank score min–max scaled to [0, 1]. A merchant past `maxPerMerchant` is
 * moved below the others rather than dropped, so a merchant-filtered search still pages through all.
 * MMR looks at the best `4 × (offset + limit)` candidates (at least 40): with λ ≥ 0.5 a coupon
 * ranked lower than that is not picked for the page, and the pairwise similarities cost
 * page × pool × dims multiplications on every search.
 */
export const diversifyByMerchant: Stage = {
  name: 'diversify',
  run(ctx, { settings }) {
    const { mmrLambda: lambda, maxPerMerchant } = settings;
    const needed = ctx.request.offset + ctx.request.limit;
    const poolSize = Math.max(40, 4 * needed);
    const pool = ctx.candidates.slice(0, poolSize);
    const below = ctx.candidates.slice(poolSize);
    const scores = pool.map((c) => c.ranked?.score ?? c.fused?.score ?? 0);
    const hi = Math.max(...scores),
      lo = Math.min(...scores);
    const relevance = new Map(pool.map((c, i) => [c.id, hi > lo ? (scores[i]! - lo) / (hi - lo) : 1]));
    const maxSim = new Map(pool.map((c) => [c.id, 0]));
    const perMerchant = new Map<string, number>();
    const picked: Candidate[] = [];
    const demoted: Candidate[] = [];
    let remaining = pool;

    while (picked.length < needed && remaining.length > 0) {
      let bestIndex = -1,
        best = Number.NEGATIVE_INFINITY;
      const next: Candidate[] = [];
      for (const c of remaining) {
        if ((perMerchant.get(c.coupon.merchant.id) ?? 0) >= maxPerMerchant) {
          demoted.push(c);
          continue;
        }
        next.push(c);
        const mmr = lambda * relevance.get(c.id)! - (1 - lambda) * maxSim.get(c.id)!;
        if (mmr > best) {
          best = mmr;
          bestIndex = next.length - 1;
        }
      }
      remaining = next;
      if (bestIndex < 0) break;
      const [chosen] = remaining.splice(bestIndex, 1);
      picked.push({ ...chosen!, diversified: { position: picked.length + 1, mmr: best, maxSimilarity: maxSim.get(chosen!.id)!, demoted: false } });
      perMerchant.set(chosen!.coupon.merchant.id, (perMerchant.get(chosen!.coupon.merchant.id) ?? 0) + 1);
      if (chosen!.vector) {
        for (const c of remaining) {
          if (c.vector) maxSim.set(c.id, Math.max(maxSim.get(c.id)!, dot(chosen!.vector, c.vector)));
        }
      }
    }
    // Below the diversified head: the rest in rank order, then the merchant-capped ones.
    const demotedIds = new Set(demoted.map((c) => c.id));
    const rest = [...remaining, ...below, ...demoted.sort((a, b) => (b.ranked?.score ?? 0) - (a.ranked?.score ?? 0))];
    const tail = rest.map((c, i) => ({
      ...c,
      diversified: { position: picked.length + i + 1, mmr: Number.NaN, maxSimilarity: maxSim.get(c.id) ?? 0, demoted: demotedIds.has(c.id) },
    }));
    return {
      ...ctx,
      candidates: [...picked, ...tail],
      notes: {
        ...ctx.notes,
        diversify: `MMR (λ=${lambda}) over the top ${picked.length}; at most ${maxPerMerchant} per merchant, ${demoted.length} moved down`,
      },
    };
  },
};
