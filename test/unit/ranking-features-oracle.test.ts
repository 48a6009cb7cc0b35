/**
 * The in-place feature writer (`rankingFeatures`, loops into one row, built for a few hundred
 * candidates a search) against the straightforward definition it replaced, kept here as the
 * oracle: equal float for float on the sample catalogue's titles and, when ../shared is present,
 * Home Depot's product titles and queries (numbers, punctuation, misspellings), with random
 * retrieval and context signals.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/eval/home-depot.ts';
import {
  type CandidateSignals,
  CTR_PRIOR,
  idfFromCorpus,
  type PreparedQuery,
  prepareQuery,
  RANKING_FEATURES,
  rankingFeatures,
} from '../../src/ranking/features.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { type TitleProfile, titleProfile, titleProfileOf } from '../../src/text/title-match.ts';
import { seededRandom } from '../../src/util/random.ts';
import { SHARED_DIR } from '../support/tmp.ts';

type Input = { title: string; profile?: TitleProfile; dense?: { rank: number; score: number }; bm25?: { rank: number; score: number }; fusedRank: number };

/** The definition, written for reading: one array per step. */
function reference(q: PreparedQuery, input: Input, s: CandidateSignals): Float32Array {
  const lexicalLength = RANKING_FEATURES.indexOf('cf_score');
  let lexical: number[];
  if (q.terms.length === 0) {
    lexical = new Array(lexicalLength).fill(0);
    lexical.splice(0, 7, input.dense?.score ?? 0, input.dense ? Math.log1p(input.dense.rank) : 0, input.dense ? 0 : 1, 0, 0, 1, Math.log1p(input.fusedRank));
    lexical[RANKING_FEATURES.indexOf('numbers_missing')] = 1;
  } else {
    const title = input.profile ?? titleProfile(input.title);
    const { terms: t, termSet } = title;
    const n = q.terms.length;
    const matched = q.terms.map((x) => termSet.has(x));
    const titleBigrams = new Set(t.slice(1).map((x, i) => `${t[i]} ${x}`));
    const covered = matched.filter(Boolean).length / n;
    const bigrams = q.bigrams.size ? [...q.bigrams].filter((b) => titleBigrams.has(b)).length / q.bigrams.size : covered;
    const oneEdit = (a: string, b: string) => {
      if (a === b) return true;
      if (Math.abs(a.length - b.length) > 1) return false;
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      if (a.length === b.length) return a.slice(i + 1) === b.slice(i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2));
      return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
    };
    const idfTotal = q.idf.reduce((a, b) => a + b, 0) || 1;
    let shared = 0;
    for (const g of q.trigrams) if (title.compact.includes(g)) shared++;
    lexical = [
      input.dense?.score ?? 0,
      input.dense ? Math.log1p(input.dense.rank) : 0,
      input.dense ? 0 : 1,
      input.bm25?.score ?? 0,
      input.bm25 ? Math.log1p(input.bm25.rank) : 0,
      input.bm25 ? 0 : 1,
      Math.log1p(input.fusedRank),
      covered,
      q.terms.filter((x, i) => matched[i] || t.some((y) => y.startsWith(x) || (y.length >= 3 && x.startsWith(y)))).length / n,
      bigrams,
      q.text.length > 0 && title.normalised.includes(q.text) ? 1 : 0,
      q.numbers.length ? q.numbers.filter((x) => termSet.has(x)).length / q.numbers.length : 0,
      q.numbers.length ? 0 : 1,
      termSet.has(q.terms[0]!) ? 1 : 0,
      termSet.has(q.terms.at(-1)!) ? 1 : 0,
      Math.log1p(t.length),
      n,
      q.terms.reduce((sum, _, i) => sum + (matched[i] ? q.idf[i]! : 0), 0) / idfTotal,
      q.terms.filter((x, i) => matched[i] || (x.length >= 4 && t.some((y) => oneEdit(x, y)))).length / n,
      Math.max(0, ...q.terms.map((_, i) => (matched[i] ? 0 : q.idf[i]!))),
      t.length ? t.filter((x) => q.terms.includes(x)).length / t.length : 0,
      input.bm25 && q.maxBm25 > 0 ? input.bm25.score / q.maxBm25 : 0,
      q.trigrams.size ? shared / q.trigrams.size : 0,
      shared / Math.max(1, q.trigrams.size + title.trigramCount - shared),
    ];
  }
  const e = s.engagement;
  const context = [
    s.cfScore ?? 0,
    s.cfScore === undefined ? 1 : 0,
    s.categoryAffinity ?? 0,
    s.merchantAffinity ?? 0,
    s.categoryAffinity !== undefined || s.merchantAffinity !== undefined ? 0 : 1,
    e ? Math.log1p(e.popularity) : 0,
    e ? (e.clicks + CTR_PRIOR.rate * CTR_PRIOR.impressions) / (e.impressions + CTR_PRIOR.impressions) : CTR_PRIOR.rate,
    e ? 0 : 1,
    s.ageDays !== undefined ? Math.log1p(Math.max(0, s.ageDays)) : 0,
    s.daysToExpiry !== undefined ? Math.log1p(Math.max(0, s.daysToExpiry)) : 0,
    s.ageDays === undefined || s.daysToExpiry === undefined ? 1 : 0,
    s.discountDepth ?? 0,
    s.discountDepth === undefined ? 1 : 0,
    s.distanceKm !== undefined ? Math.log1p(s.distanceKm) : 0,
    s.distanceKm === undefined ? 1 : 0,
    s.sponsored ?? 0,
    q.terms.length === 0 ? 1 : 0,
    s.pastQueries ? Math.log1p(s.pastQueries.sum) : 0,
    s.pastQueries ? Math.log1p(s.pastQueries.max) : 0,
    s.pastQueries ? 0 : 1,
  ];
  return Float32Array.from([...lexical, ...context]);
}

function corpora(): Array<{ name: string; titles: string[]; queries: string[] }> {
  const sample = generateCatalogue({ size: 400, seed: 5 }).map((c) => c.title);
  const words = ['cheap', 'half price', 'family', 'deal', 'near me', 'for two', 'best', '2 for 1', 'luxury'];
  const things = ['pizza', 'oil change', 'yoga classes', 'sushi dinner', 'car wash', 'haircut', 'hotel stay', 'running shoes', 'massage', 'coffee'];
  const sampleQueries = words.flatMap((w) => things.map((t) => `${w} ${t}`));
  const out = [
    {
      name: 'the sample catalogue',
      titles: sample,
      queries: [
        ...sampleQueries,
        '',
        'a',
        '12 for 2',
        'pizzza tonite',
        "tony's",
        'massage massage spa',
        'oil change oil change',
        'pizza pizza pizza',
        'spa day spa day',
      ],
    },
  ];
  const judgments = path.join(SHARED_DIR, 'data/home-depot/judgments.csv');
  if (existsSync(judgments)) {
    const rows = parseCsv(readFileSync(judgments, 'utf8')).slice(1);
    out.push({ name: 'Home Depot', titles: [...new Set(rows.map((r) => r[2]!))].slice(0, 3000), queries: [...new Set(rows.map((r) => r[3]!))].slice(0, 300) });
  }
  return out;
}

describe('ranking features: the in-place writer equals the definition', () => {
  it.each(corpora().map((c) => [c.name, c] as const))('on %s, float for float', (_, { titles, queries }) => {
    const rand = seededRandom(11);
    const maybe = <T>(p: number, value: () => T) => (rand() < p ? value() : undefined);
    const idf = idfFromCorpus(titles);
    let compared = 0;
    for (const query of queries) {
      const q = prepareQuery(query, { idf, maxBm25: 12 });
      // Random titles, and titles with the query's first word: most random pairs share nothing.
      const word = query.toLowerCase().split(' ')[0]!;
      const matching = word ? titles.filter((t) => t.toLowerCase().includes(word)).slice(0, 5) : [];
      const picked = [...Array.from({ length: 20 }, () => titles[Math.floor(rand() * titles.length)]!), ...matching];
      for (const title of picked) {
        const input: Input = {
          title,
          ...(rand() < 0.5 && { profile: titleProfileOf({ title }) }),
          dense: maybe(0.7, () => ({ rank: 1 + Math.floor(rand() * 100), score: rand() })),
          bm25: maybe(0.7, () => ({ rank: 1 + Math.floor(rand() * 100), score: rand() * 20 })),
          fusedRank: Math.floor(rand() * 200),
        };
        const signals: CandidateSignals = {
          cfScore: maybe(0.5, rand),
          categoryAffinity: maybe(0.5, rand),
          merchantAffinity: maybe(0.3, rand),
          engagement: maybe(0.5, () => ({ popularity: rand() * 10, clicks: Math.floor(rand() * 5), impressions: Math.floor(rand() * 50) })),
          ageDays: maybe(0.9, () => rand() * 100 - 5),
          daysToExpiry: maybe(0.9, () => rand() * 100 - 5),
          discountDepth: maybe(0.7, rand),
          distanceKm: maybe(0.5, () => rand() * 50),
          sponsored: maybe(0.2, rand),
          pastQueries: maybe(0.2, () => ({ sum: rand() * 3, max: rand() })),
        };
        const got = rankingFeatures(q, input, signals);
        const want = reference(q, input, signals);
        if (!got.every((x, i) => Object.is(x, want[i]))) expect({ query, title, got: Array.from(got) }).toEqual({ query, title, got: Array.from(want) });
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(queries.length * 20);
  });
});
