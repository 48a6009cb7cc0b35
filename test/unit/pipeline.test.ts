import { describe, expect, it } from 'vitest';
import type { Coupon } from '../../src/domain/coupon.ts';
import type { Candidate, SearchContext, SearchDeps, SearchSettings } from '../../src/search/context.ts';
import { diversifyByMerchant } from '../../src/search/stages/diversify.ts';
import { fuseLists, fuseRecommendationLists } from '../../src/search/stages/fuse.ts';
import { type FusionSettings, fusedScores } from '../../src/search/fusion.ts';
import { pageResults } from '../../src/search/stages/page.ts';
import { fusedScorer, rankCandidates } from '../../src/search/stages/rank.ts';
import { RankingFeaturizer } from '../../src/ranking/featurizer.ts';
import { RANKING_FEATURES } from '../../src/ranking/features.ts';
import { makeCoupon } from '../support/coupons.ts';

const RRF: FusionSettings = {
  method: 'rrf',
  rrfK: 60,
  weights: { dense: 1, lexical: 1, paraphrase: 1, behavior: 1, popularity: 1 },
  matchBoost: { terms: 0, bigrams: 0 },
};
const settings: SearchSettings = {
  candidates: 200,
  fusion: RRF,
  recommendationFusion: RRF,
  paraphrase: { maxLexicalHits: 20 },
  vocabularyRefreshMs: 30_000,
  mmrLambda: 0.8,
  maxPerMerchant: 2,
  nearDuplicateCosine: 0.95,
  exploration: 0,
};
// Unit tests of pure stages: no store or event store is reached (no user, no events).
const deps = { settings, scorer: fusedScorer, features: RankingFeaturizer.uniform() } as unknown as SearchDeps;
const ctxOf = (candidates: Candidate[], limit = 10, offset = 0, queryId = 'q-1'): SearchContext => ({
  request: { surface: 'search', query: 'q', limit, offset, explain: true, now: new Date(), queryId },
  queryText: 'q',
  candidates,
  total: 0,
  timings: {},
  parts: {},
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
    const fused = (await fuseRecommendationLists.run(ctxOf(candidates), deps)).candidates;
    expect(fused.map((c) => c.id)).toEqual(['b', 'a', 'c']);
    expect(fused[0]!.fused!.score).toBeCloseTo(2 / 62, 10);
    expect(fused[1]!.fused!.score).toBeCloseTo(1 / 61, 10);
  });

  it('convex fusion weighs min-max-normalised scores, so a weak list cannot outvote a strong one', async () => {
    const candidates: Candidate[] = [
      { id: 'a', coupon: coupon('a', 'm1'), dense: { rank: 1, score: 0.9 }, lexical: { rank: 3, score: 1 } },
      { id: 'b', coupon: coupon('b', 'm2'), dense: { rank: 2, score: 0.89 }, lexical: { rank: 2, score: 4 } },
      { id: 'c', coupon: coupon('c', 'm3'), dense: { rank: 3, score: 0.5 }, lexical: { rank: 1, score: 5 } },
    ];
    const convex: FusionSettings = {
      method: 'convex',
      rrfK: 60,
      weights: { dense: 0.3, lexical: 0.7, paraphrase: 0, behavior: 1, popularity: 1 },
      matchBoost: { terms: 0, bigrams: 0 },
    };
    const fused = (await fuseLists(() => convex).run(ctxOf(candidates), deps)).candidates;
    // a: 0.3·1 + 0.7·0 = 0.3; b: 0.3·(0.39/0.4) + 0.7·0.75 = 0.8175; c: 0 + 0.7·1 = 0.7
    expect(fused.map((c) => c.id)).toEqual(['b', 'c', 'a']);
    expect(fused[0]!.fused!.score).toBeCloseTo(0.3 * (0.39 / 0.4) + 0.7 * 0.75, 10);
    // RRF with the same weights cannot tell b's near-tie on the dense list from a's clear lead.
    expect(fusedScores(candidates, { ...convex, method: 'rrf' })[0]).toBeCloseTo(0.3 / 61 + 0.7 / 63, 12);
    // The title-match boost: a title with every query term, in order, beats a stronger BM25 score on one term.
    const titled = (id: string, title: string, score: number, rank: number): Candidate => ({
      id,
      coupon: makeCoupon(id, { title }),
      lexical: { rank, score },
    });
    const boosted = await fuseLists(() => ({ ...convex, normalization: 'max', matchBoost: { terms: 0.2, bigrams: 0.2 } })).run(
      {
        ...ctxOf([titled('rare', 'Pepperoni special', 5, 1), titled('whole', 'Large pepperoni pizza', 4, 2)]),
        request: { ...ctxOf([]).request, query: 'pepperoni pizza' },
        queryText: 'pepperoni pizza',
      },
      deps,
    );
    expect(boosted.candidates.map((c) => c.id)).toEqual(['whole', 'rare']);
    expect(boosted.notes.fuse).toMatch(/title match \(terms 0.2, bigrams 0.2\)/);
    // Equal scores in a list (nothing to normalise) give every member full credit.
    expect(fusedScores([{ lexical: { rank: 1, score: 2 } }, { lexical: { rank: 2, score: 2 } }], convex)).toEqual([0.7, 0.7]);
  });

  it("the rank stage sorts by the scorer and records it with every candidate's feature row", async () => {
    const candidates: Candidate[] = ['x', 'y'].map((id, i) => ({ id, coupon: coupon(id, 'm'), fused: { rank: i + 1, score: i } }));
    const ranked = (await rankCandidates.run(ctxOf(candidates), deps)).candidates;
    expect(ranked.map((c) => [c.id, c.ranked!.scorer])).toEqual([
      ['y', 'fused'],
      ['x', 'fused'],
    ]);
    expect(ranked[0]!.ranked!.features).toHaveLength(RANKING_FEATURES.length);
  });

  it('keeps the fused order when the scorer throws, and says why', async () => {
    const candidates: Candidate[] = ['x', 'y'].map((id, i) => ({ id, coupon: coupon(id, 'm'), fused: { rank: i + 1, score: 1 - i } }));
    const broken = {
      ...deps,
      scorer: {
        name: 'ltr',
        score: () => {
          throw new Error('weights missing');
        },
      },
    } as SearchDeps;
    const out = await rankCandidates.run(ctxOf(candidates), broken);
    expect(out.candidates.map((c) => [c.id, c.ranked!.scorer])).toEqual([
      ['x', 'fused'],
      ['y', 'fused'],
    ]);
    expect(out.notes.rank).toContain("'ltr' failed: weights missing");
  });

  it('exploration swaps one adjacent pair in the chosen share of pages, reproducibly per query id', async () => {
    const candidates: Candidate[] = Array.from({ length: 10 }, (_, i) => ({ id: `c${i}`, coupon: coupon(`c${i}`, `m${i}`) }));
    const explore = { ...deps, settings: { ...settings, exploration: 0.5 } } as SearchDeps;
    let swapped = 0;
    for (let q = 0; q < 400; q++) {
      const ids = (await pageResults.run(ctxOf(candidates, 10, 0, `q-${q}`), explore)).candidates.map((c) => c.id);
      const moved = ids.map((id, i) => (id === `c${i}` ? 0 : 1)).reduce((a: number, b) => a + b, 0);
      expect([0, 2]).toContain(moved); // nothing, or exactly one pair
      if (moved) swapped++;
      expect((await pageResults.run(ctxOf(candidates, 10, 0, `q-${q}`), explore)).candidates.map((c) => c.id)).toEqual(ids);
    }
    expect(swapped / 400).toBeGreaterThan(0.4);
    expect(swapped / 400).toBeLessThan(0.6);
    const off = (await pageResults.run(ctxOf(candidates, 10, 0, 'q-1'), deps)).candidates.map((c) => c.id);
    expect(off).toEqual(candidates.map((c) => c.id));
  });

  it('MMR prefers a different offer over a near-copy, and caps each merchant at two', async () => {
    const candidates: Candidate[] = [
      { id: 'p1', coupon: coupon('p1', 'pizza-a'), vector: unit(1, 0, 0), ranked: { score: 1.0, scorer: 't', features: new Float32Array() } },
      { id: 'p2', coupon: coupon('p2', 'pizza-b'), vector: unit(1, 0.01, 0), ranked: { score: 0.98, scorer: 't', features: new Float32Array() } },
      { id: 's1', coupon: coupon('s1', 'sushi'), vector: unit(0.5, 1, 0), ranked: { score: 0.97, scorer: 't', features: new Float32Array() } },
      { id: 'a2', coupon: coupon('a2', 'pizza-a'), vector: unit(0, 0, 1), ranked: { score: 0.9, scorer: 't', features: new Float32Array() } },
      { id: 'a3', coupon: coupon('a3', 'pizza-a'), vector: unit(0, 1, 1), ranked: { score: 0.89, scorer: 't', features: new Float32Array() } },
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
