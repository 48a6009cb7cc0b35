import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/eval/home-depot.ts';
import { idfFromCorpus, prepareQuery, RANKING_FEATURES, rankingFeatures } from '../../src/ranking/features.ts';

const f = (query: string, title: string, extra: Partial<Parameters<typeof rankingFeatures>[1]> = {}) => {
  const values = rankingFeatures(prepareQuery(query, { idf: idfFromCorpus(['deck screw box', 'wood deck stain', 'angle bracket 12 gauge']) }), { title, fusedRank: 1, ...extra });
  return Object.fromEntries(RANKING_FEATURES.map((name, i) => [name, values[i]!]));
};

describe('ranking features v1', () => {
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

describe('CSV', () => {
  it('reads quoted fields with commas, quotes and newlines', () => {
    expect(parseCsv('a,b\n1,"x, ""y""\nz"\n')).toEqual([['a', 'b'], ['1', 'x, "y"\nz']]);
  });
});
