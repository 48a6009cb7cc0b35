import { describe, expect, it } from 'vitest';
import type { Coupon } from '../../src/domain/coupon.ts';
import type { Candidate, SearchContext, SearchDeps, SearchSettings } from '../../src/search/context.ts';
import { diversifyByMerchant } from '../../src/search/stages/diversify.ts';
import { fuseByReciprocalRank } from '../../src/search/stages/fuse.ts';
import { pageResults } from '../../src/search/stages/page.ts';
import { fusedScorer, rankCandidates } from '../../src/search/stages/rank.ts';
import { makeCoupon } from '../support/coupons.ts';

const settings: SearchSettings = { candidates: 200, rrfK: 60, mmrLambda: 0.8, maxPerMerchant: 2, nearDuplicateCosine: 0.95 };
const deps = { settings, scorer: fusedScorer } as unknown as SearchDeps;
const ctxOf = (candidates: Candidate[], limit = 10, offset = 0): SearchContext => ({
  request: { query: 'q', limit, offset, explain: true, now: new Date() },
  candidates,
  total: 0,
  timings: {},
  notes: {},
});
const coupon = (id: string, merchant: string): Coupon => makeCoupon(id, { merchant: { id: merchant, name: merchant } });
const unit = (...xs: number[]) => {
  const n = Math.hypot(...xs);
  return Float32Array.from(xs.map((x) => x / n));
};

describe('search stages', () => {
  it('RRF sums 1/(k + rank) over both lists, so agreement beats one strong list', async () => {
    const candidates: Candidate[] = [
      { id: 'a', coupon: coupon('a', 'm1'), dense: { rank: 1, score: 0.9 } },
      { id: 'b', coupon: coupon('b', 'm2'), dense: { rank: 2, score: 0.8 }, lexical: { rank: 2, score: 3 } },
      { id: 'c', coupon: coupon('c', 'm3'), lexical: { rank: 1, score: 5 } },
    ];
    const fused = (await fuseByReciprocalRank.run(ctxOf(candidates), deps)).candidates;
    expect(fused.map((c) => c.id)).toEqual(['b', 'a', 'c']);
    expect(fused[0]!.fused!.score).toBeCloseTo(2 / 62, 10);
    expect(fused[1]!.fused!.score).toBeCloseTo(1 / 61, 10);
  });

  it('the rank stage sorts by the scorer and records it', async () => {
    const candidates: Candidate[] = ['x', 'y'].map((id, i) => ({ id, coupon: coupon(id, 'm'), fused: { rank: i + 1, score: i } }));
    const ranked = (await rankCandidates.run(ctxOf(candidates), deps)).candidates;
    expect(ranked.map((c) => [c.id, c.ranked!.scorer])).toEqual([['y', 'fused'], ['x', 'fused']]);
  });

  it('MMR prefers a different offer over a near-copy, and caps each merchant at two', async () => {
    const candidates: Candidate[] = [
      { id: 'p1', coupon: coupon('p1', 'pizza-a'), vector: unit(1, 0, 0), ranked: { score: 1.0, scorer: 't' } },
      { id: 'p2', coupon: coupon('p2', 'pizza-b'), vector: unit(1, 0.01, 0), ranked: { score: 0.98, scorer: 't' } },
      { id: 's1', coupon: coupon('s1', 'sushi'), vector: unit(0.5, 1, 0), ranked: { score: 0.97, scorer: 't' } },
      { id: 'a2', coupon: coupon('a2', 'pizza-a'), vector: unit(0, 0, 1), ranked: { score: 0.9, scorer: 't' } },
      { id: 'a3', coupon: coupon('a3', 'pizza-a'), vector: unit(0, 1, 1), ranked: { score: 0.89, scorer: 't' } },
    ];
    const out = (await diversifyByMerchant.run(ctxOf(candidates, 5), deps)).candidates;
    expect(out.map((c) => c.id)).toEqual(['p1', 's1', 'p2', 'a2', 'a3']);
    expect(out.at(-1)!.diversified!.demoted).toBe(true);
    expect(out[1]!.diversified!.maxSimilarity).toBeGreaterThan(0.4);
  });

  it('pages after diversification and keeps the total', async () => {
    const candidates: Candidate[] = Array.from({ length: 7 }, (_, i) => ({ id: `c${i}`, coupon: coupon(`c${i}`, `m${i}`) }));
    const page = await pageResults.run(ctxOf(candidates, 3, 3), deps);
    expect(page.candidates.map((c) => c.id)).toEqual(['c3', 'c4', 'c5']);
    expect(page.total).toBe(7);
  });
});
