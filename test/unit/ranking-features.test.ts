import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/eval/home-depot.ts';
import {
  applyNormalisation,
  CTR_PRIOR,
  fitNormalisation,
  idfFromCorpus,
  learnedFeatures,
  namedFeatures,
  prepareQuery,
  RANKING_FEATURES,
  rankingFeatures,
} from '../../src/ranking/features.ts';
import { titleProfileOf } from '../../src/text/title-match.ts';

const f = (query: string, title: string, extra: Partial<Parameters<typeof rankingFeatures>[1]> = {}) => {
  const values = rankingFeatures(prepareQuery(query, { idf: idfFromCorpus(['deck screw box', 'wood deck stain', 'angle bracket 12 gauge']) }), {
    title,
    fusedRank: 1,
    ...extra,
  });
  return Object.fromEntries(RANKING_FEATURES.map((name, i) => [name, values[i]!]));
};

describe('ranking features v3: lexical and retrieval block', () => {
  it('gives the same features from a kept title profile as from the title alone', () => {
    const q = prepareQuery('half price pizzas for two', { idf: idfFromCorpus(['pizza for two', 'half price sushi']), maxBm25: 4 });
    for (const title of ['Pizza for Two — 50% off', 'Half-price PIZZAS, Tony’s', 'Oil change', '']) {
      const input = { title, dense: { rank: 2, score: 0.7 }, bm25: { rank: 1, score: 3 }, fusedRank: 1 };
      expect(rankingFeatures(q, { ...input, profile: titleProfileOf({ title }) })).toEqual(rankingFeatures(q, input));
    }
  });

  it('has one value per named feature', () => {
    expect(rankingFeatures(prepareQuery('x'), { title: 'y', fusedRank: 1 })).toHaveLength(RANKING_FEATURES.length);
  });

  it('measures lexical overlap, phrases, numbers and misspellings', () => {
    const exact = f('deck screws', 'Deck Screws, 5 lb box');
    expect(exact).toMatchObject({ query_coverage: 1, exact_phrase: 1, first_term_match: 1, numbers_missing: 1 });
    const typo = f('deck scews', 'Deck Screws');
    expect(typo.query_coverage).toBe(0.5);
    expect(typo.fuzzy_coverage).toBe(1);
    const numbers = f('12 gauge bracket', 'Simpson 12-Gauge Angle Bracket');
    expect(numbers).toMatchObject({ numbers_matched: 1, numbers_missing: 0 });
    expect(f('doorknob', 'Door Knob Set').trigram_query_coverage!).toBeGreaterThan(0.8);
  });

  it('weights rare terms more than common ones', () => {
    // "stain" is rarer than "deck" in the corpus, so matching it covers more of the query's weight.
    expect(f('deck stain', 'Stain remover').idf_coverage!).toBeGreaterThan(f('deck stain', 'Deck tiles').idf_coverage!);
  });

  it('marks absent retrieval signals as missing instead of zero-valued', () => {
    const none = f('a b', 'a b');
    expect(none).toMatchObject({ dense_missing: 1, bm25_missing: 1, dense_cosine: 0 });
    const both = f('a b', 'a b', { dense: { rank: 3, score: 0.5 }, bm25: { rank: 1, score: 7 } });
    expect(both).toMatchObject({ dense_missing: 0, bm25_missing: 0, dense_cosine: 0.5, bm25_score: 7 });
  });
});

describe('ranking features v3: coupon-side, personal and past-search block', () => {
  const ctx = (signals: Parameters<typeof rankingFeatures>[2], query = 'pizza') =>
    namedFeatures(rankingFeatures(prepareQuery(query), { title: 'Pizza for two', fusedRank: 3 }, signals));

  it('marks every unknown signal missing, with a neutral value', () => {
    const none = ctx({});
    expect(none).toMatchObject({
      cf_missing: 1,
      cf_score: 0,
      affinity_missing: 1,
      engagement_missing: 1,
      validity_missing: 1,
      discount_missing: 1,
      distance_missing: 1,
      sponsored: 0,
      query_missing: 0,
      past_query_engagement_log: 0,
      past_query_missing: 1,
    });
    expect(none.ctr_smoothed).toBeCloseTo(CTR_PRIOR.rate, 4);
  });

  it('carries what is known: personal scores, engagement, validity, discount, distance', () => {
    const f = ctx({
      cfScore: 1.5,
      categoryAffinity: 0.6,
      merchantAffinity: 0,
      engagement: { popularity: 9, clicks: 30, impressions: 100 },
      ageDays: 3,
      daysToExpiry: 0.5,
      discountDepth: 0.5,
      distanceKm: 2,
      sponsored: 1,
      pastQueries: { sum: 3, max: 2 },
    });
    expect(f).toMatchObject({
      cf_score: 1.5,
      cf_missing: 0,
      category_affinity: 0.6,
      merchant_affinity: 0,
      affinity_missing: 0,
      engagement_missing: 0,
      validity_missing: 0,
      discount_depth: 0.5,
      discount_missing: 0,
      distance_missing: 0,
      sponsored: 1,
    });
    expect(f.popularity_log).toBeCloseTo(Math.log(10), 3);
    expect(f.distance_km_log).toBeCloseTo(Math.log(3), 3);
    expect(f.past_query_engagement_log).toBeCloseTo(Math.log(4), 3);
    expect(f.past_query_engagement_max_log).toBeCloseTo(Math.log(3), 3);
    expect(f.past_query_missing).toBe(0);
  });

  it('smooths the click-through rate towards the prior when impressions are few', () => {
    const few = ctx({ engagement: { popularity: 1, clicks: 1, impressions: 1 } }).ctr_smoothed!;
    const many = ctx({ engagement: { popularity: 500, clicks: 500, impressions: 1000 } }).ctr_smoothed!;
    expect(few).toBeLessThan(0.1); // 1 click in 1 impression is not a 100 % CTR
    expect(many).toBeGreaterThan(0.45);
  });

  it('zeroes the lexical block and flags it when there is no query text (similar coupons, feeds)', () => {
    const f = ctx({}, '');
    expect(f).toMatchObject({ query_missing: 1, query_coverage: 0, bm25_missing: 1, numbers_missing: 1 });
  });

  it('normalisation ignores features that never varied in training, whatever their value later', () => {
    const rows = [Float32Array.of(1, 0, 5), Float32Array.of(3, 0, 5)];
    const n = fitNormalisation(rows);
    expect(n.std[1]).toBe(0);
    expect(Array.from(applyNormalisation(Float32Array.of(2, 100, -7), n))).toEqual([0, 0, 0]);
    const judged = fitNormalisation([
      rankingFeatures(prepareQuery('a b'), { title: 'a', fusedRank: 1 }),
      rankingFeatures(prepareQuery('a c'), { title: 'c d', fusedRank: 2, bm25: { rank: 1, score: 3 } }),
    ]);
    expect(learnedFeatures(judged)).not.toContain('discount_depth');
    expect(learnedFeatures(judged)).toContain('bm25_score');
  });
});

describe('CSV', () => {
  it('reads quoted fields with commas, quotes and newlines', () => {
    expect(parseCsv('a,b\n1,"x, ""y""\nz"\n')).toEqual([
      ['a', 'b'],
      ['1', 'x, "y"\nz'],
    ]);
  });
});
