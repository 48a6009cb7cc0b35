import { tokenize } from '../text/tokenize.ts';
import { characterTrigrams, normaliseText, type TitleProfile, titleMatch, titleProfile } from '../text/title-match.ts';

/**
 * The ranking feature schema (v3): one vector per (query, user?, coupon, context), the same for
 * training, serving, the served-list logs and the browser. Every signal that can be absent has a
 * value and a missing flag. v1 was the lexical and retrieval block alone; v2 adds the coupon-side
 * and personal block (`CONTEXT_FEATURES`); v3 the engagement after similar past searches. Lexical features matter most on keyword-heavy product
 * and coupon text (brands, sizes, model numbers); see ../shared/README.md.
 */
export const RANKING_FEATURES_VERSION = 3;
const LEXICAL_FEATURES = [
  'dense_cosine',
  'dense_rank_log',
  'dense_missing',
  'bm25_score',
  'bm25_rank_log',
  'bm25_missing',
  'fused_rank_log',
  'query_coverage',
  'query_prefix_coverage',
  'bigram_coverage',
  'exact_phrase',
  'numbers_matched',
  'numbers_missing',
  'first_term_match',
  'last_term_match',
  'title_terms_log',
  'query_terms',
  'idf_coverage',
  'fuzzy_coverage',
  'unmatched_max_idf',
  'title_coverage',
  'bm25_relative',
  'trigram_query_coverage',
  'trigram_jaccard',
] as const;

/** What is known about the coupon, the shopper and the moment, beyond the text match. */
const CONTEXT_FEATURES = [
  /** Two-tower score: the user vector · the coupon's behaviour vector. */
  'cf_score',
  'cf_missing',
  /** Share of the user's decayed engagement that went to the coupon's categories / merchant. */
  'category_affinity',
  'merchant_affinity',
  'affinity_missing',
  /** log(1 + decayed clicks + saves + 2 × redemptions). */
  'popularity_log',
  /** Clicks / impressions shrunk towards a prior CTR (Bayesian smoothing): few impressions say little. */
  'ctr_smoothed',
  'engagement_missing',
  'age_days_log',
  'expiry_days_log',
  'validity_missing',
  /** Discount depth as a fraction of the price (0–1). */
  'discount_depth',
  'discount_missing',
  'distance_km_log',
  'distance_missing',
  'sponsored',
  /** No query text (similar coupons, feeds): the lexical block is all zeros. */
  'query_missing',
  /** log(1 + Σ similarity × engagement) with the coupon after past searches like this one (`PastQueryEngagement`). */
  'past_query_engagement_log',
  /** log(1 + the largest single term of that sum). */
  'past_query_engagement_max_log',
  /** No past search like this one was followed by engagement with the coupon. */
  'past_query_missing',
] as const;

export const RANKING_FEATURES = [...LEXICAL_FEATURES, ...CONTEXT_FEATURES] as const;
export type RankingFeatureName = (typeof RANKING_FEATURES)[number];

/** Prior click-through rate and its weight in impressions, for `ctr_smoothed`. */
export const CTR_PRIOR = { rate: 0.05, impressions: 20 };

/**
 * Coupon-side and personal signals of one candidate; any of them may be unknown (judgment data
 * has none, an anonymous shopper has no affinity, an online coupon has no distance).
 */
export interface CandidateSignals {
  cfScore?: number | undefined;
  /** undefined: no user, or nothing known about them. */
  categoryAffinity?: number | undefined;
  merchantAffinity?: number | undefined;
  /** Decayed counts; undefined when the coupon has no recorded events. */
  engagement?: { popularity: number; clicks: number; impressions: number } | undefined;
  ageDays?: number | undefined;
  daysToExpiry?: number | undefined;
  /** 0–1; undefined when the discount cannot be expressed as a fraction (e.g. $5 off, no price). */
  discountDepth?: number | undefined;
  distanceKm?: number | undefined;
  sponsored?: number | undefined;
  /** Engagement with the coupon after similar past searches; undefined when there was none. */
  pastQueries?: { sum: number; max: number } | undefined;
}

export interface RetrievalSignal {
  rank: number;
  score: number;
}

export interface FeatureInput {
  query: string;
  title: string;
  /** The title's profile, when the caller keeps one per coupon (`titleProfileOf`); derived from `title` otherwise. */
  profile?: TitleProfile;
  dense?: RetrievalSignal | undefined;
  bm25?: RetrievalSignal | undefined;
  fusedRank: number;
}

const NUMBER = /^\d+(\.\d+)?$/;

/** Inverse document frequency of a term in the searched corpus (rare terms: brands, model numbers). */
export type IdfLookup = (term: string) => number;

/** Query-side work done once per query and reused for every candidate. */
export interface PreparedQuery {
  text: string;
  terms: string[];
  idf: number[];
  bigrams: Set<string>;
  numbers: string[];
  /** Best BM25 score among the candidates, for relative scores. */
  maxBm25: number;
  /** Character trigrams of the query without spaces: robust to misspellings and split compounds. */
  trigrams: Set<string>;
}

export function prepareQuery(query: string, options: { idf?: IdfLookup; maxBm25?: number } = {}): PreparedQuery {
  const terms = tokenize(query);
  return {
    text: normaliseText(query),
    terms,
    idf: terms.map((t) => options.idf?.(t) ?? 1),
    bigrams: new Set(terms.slice(1).map((t, i) => `${terms[i]} ${t}`)),
    numbers: terms.filter((t) => NUMBER.test(t)),
    maxBm25: options.maxBm25 ?? 0,
    trigrams: characterTrigrams(query),
  };
}

/** IDF per term of a corpus (BM25's idf), to store with a model; `idfLookup` reads it back. */
export function idfTable(texts: Iterable<string>): Record<string, number> {
  const df = new Map<string, number>();
  let n = 0;
  for (const t of texts) {
    n++;
    for (const term of new Set(tokenize(t))) df.set(term, (df.get(term) ?? 0) + 1);
  }
  const table: Record<string, number> = { '': Math.log(1 + (n + 0.5) / 0.5) };
  for (const [term, d] of df) table[term] = Math.log(1 + (n - d + 0.5) / (d + 0.5));
  return table;
}

/** An IDF lookup over a table; an unseen term is as rare as a term can be (the '' entry). */
export function idfLookup(table: ReadonlyMap<string, number> | Record<string, number>): IdfLookup {
  const get = table instanceof Map ? (t: string) => table.get(t) : (t: string) => (table as Record<string, number>)[t];
  const unseen = get('') ?? 10;
  return (term) => get(term) ?? unseen;
}

/** Document frequencies of a corpus as an IDF lookup. */
export function idfFromCorpus(texts: Iterable<string>): IdfLookup {
  return idfLookup(idfTable(texts));
}

/** Damerau–Levenshtein distance ≤ 1 (one insertion, deletion, substitution or transposition). */
function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) return a.slice(i + 1) === b.slice(i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2));
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/** The whole v2 vector: the lexical and retrieval block, then the context block. */
export function rankingFeatures(q: PreparedQuery, input: Omit<FeatureInput, 'query'>, signals: CandidateSignals = {}): Float32Array {
  const lexical = q.terms.length ? lexicalFeatures(q, input) : retrievalOnly(input);
  const out = new Float32Array(RANKING_FEATURES.length);
  out.set(lexical);
  out.set(contextFeatures(signals, q.terms.length === 0), lexical.length);
  return out;
}

function retrievalOnly(input: Omit<FeatureInput, 'query'>): Float32Array {
  const out = new Float32Array(LEXICAL_FEATURES.length);
  out.set([input.dense?.score ?? 0, input.dense ? Math.log1p(input.dense.rank) : 0, input.dense ? 0 : 1, 0, 0, 1, Math.log1p(input.fusedRank)]);
  out[LEXICAL_FEATURES.indexOf('numbers_missing')] = 1;
  return out;
}

function contextFeatures(s: CandidateSignals, queryMissing: boolean): number[] {
  const known = (x: number | undefined) => (x === undefined ? 0 : x);
  const missing = (x: unknown) => (x === undefined ? 1 : 0);
  const e = s.engagement;
  const affinityKnown = s.categoryAffinity !== undefined || s.merchantAffinity !== undefined;
  return [
    known(s.cfScore),
    missing(s.cfScore),
    known(s.categoryAffinity),
    known(s.merchantAffinity),
    affinityKnown ? 0 : 1,
    e ? Math.log1p(e.popularity) : 0,
    e ? (e.clicks + CTR_PRIOR.rate * CTR_PRIOR.impressions) / (e.impressions + CTR_PRIOR.impressions) : CTR_PRIOR.rate,
    missing(e),
    s.ageDays !== undefined ? Math.log1p(Math.max(0, s.ageDays)) : 0,
    s.daysToExpiry !== undefined ? Math.log1p(Math.max(0, s.daysToExpiry)) : 0,
    s.ageDays === undefined || s.daysToExpiry === undefined ? 1 : 0,
    known(s.discountDepth),
    missing(s.discountDepth),
    s.distanceKm !== undefined ? Math.log1p(s.distanceKm) : 0,
    missing(s.distanceKm),
    known(s.sponsored),
    queryMissing ? 1 : 0,
    s.pastQueries ? Math.log1p(s.pastQueries.sum) : 0,
    s.pastQueries ? Math.log1p(s.pastQueries.max) : 0,
    missing(s.pastQueries),
  ];
}

function lexicalFeatures(q: PreparedQuery, input: Omit<FeatureInput, 'query'>): Float32Array {
  const title = input.profile ?? titleProfile(input.title);
  const { terms: titleTerms, termSet: titleSet } = title;
  const n = Math.max(1, q.terms.length);
  const { termCoverage: covered, bigramCoverage: bigrams } = titleMatch(q, titleTerms, titleSet);
  const prefix = q.terms.filter((t) => titleSet.has(t) || titleTerms.some((x) => x.startsWith(t) || (x.length >= 3 && t.startsWith(x)))).length / n;
  const numbers = q.numbers.length ? q.numbers.filter((x) => titleSet.has(x)).length / q.numbers.length : 0;
  const idfTotal = q.idf.reduce((a, b) => a + b, 0) || 1;
  const matched = q.terms.map((t) => titleSet.has(t));
  const fuzzy = q.terms.filter((t, i) => matched[i] || (t.length >= 4 && titleTerms.some((x) => withinOneEdit(t, x)))).length / n;
  const unmatchedIdf = Math.max(0, ...q.terms.map((_, i) => (matched[i] ? 0 : q.idf[i]!)));
  const titleCovered = titleTerms.length ? titleTerms.filter((t) => q.terms.includes(t)).length / titleTerms.length : 0;
  let sharedTrigrams = 0;
  for (const g of q.trigrams) if (title.compact.includes(g)) sharedTrigrams++;
  return Float32Array.from([
    input.dense?.score ?? 0,
    input.dense ? Math.log1p(input.dense.rank) : 0,
    input.dense ? 0 : 1,
    input.bm25?.score ?? 0,
    input.bm25 ? Math.log1p(input.bm25.rank) : 0,
    input.bm25 ? 0 : 1,
    Math.log1p(input.fusedRank),
    covered,
    prefix,
    bigrams,
    q.text.length > 0 && title.normalised.includes(q.text) ? 1 : 0,
    numbers,
    q.numbers.length ? 0 : 1,
    q.terms.length && titleSet.has(q.terms[0]!) ? 1 : 0,
    q.terms.length && titleSet.has(q.terms.at(-1)!) ? 1 : 0,
    Math.log1p(titleTerms.length),
    q.terms.length,
    q.terms.reduce((sum, _, i) => sum + (matched[i] ? q.idf[i]! : 0), 0) / idfTotal,
    fuzzy,
    unmatchedIdf,
    titleCovered,
    input.bm25 && q.maxBm25 > 0 ? input.bm25.score / q.maxBm25 : 0,
    q.trigrams.size ? sharedTrigrams / q.trigrams.size : 0,
    sharedTrigrams / Math.max(1, q.trigrams.size + title.trigramCount - sharedTrigrams),
  ]);
}

/** Per-feature mean and standard deviation, fitted on training rows and stored with the model. */
export interface Normalisation {
  mean: number[];
  std: number[];
}

/**
 * A feature that never varied in training (every coupon-side signal, when training on judgment
 * data) gets std 0, which means "not learned": it is fed to the model as 0 whatever its value at
 * serving time, so an untrained weight cannot turn a new signal into noise.
 */
export function fitNormalisation(rows: readonly Float32Array[]): Normalisation {
  const d = rows[0]!.length;
  const mean = new Array(d).fill(0),
    sq = new Array(d).fill(0);
  for (const r of rows) for (let k = 0; k < d; k++) mean[k] += r[k]! / rows.length;
  for (const r of rows) for (let k = 0; k < d; k++) sq[k] += (r[k]! - mean[k]) ** 2 / rows.length;
  return { mean, std: sq.map((v) => (v < 1e-12 ? 0 : Math.max(Math.sqrt(v), 1e-6))) };
}

export function applyNormalisation(row: Float32Array, n: Normalisation): Float32Array {
  return row.map((x, k) => (n.std[k] === 0 ? 0 : (x - n.mean[k]!) / n.std[k]!));
}

/** Names of the features a model actually learned from (those that varied in its training data). */
export function learnedFeatures(n: Normalisation): RankingFeatureName[] {
  return RANKING_FEATURES.filter((_, k) => n.std[k] !== 0);
}

/** A feature row as a name → value record (for explain and logs), rounded to 4 decimals. */
export function namedFeatures(row: Float32Array): Record<string, number> {
  return Object.fromEntries(RANKING_FEATURES.map((name, i) => [name, Math.round(row[i]! * 1e4) / 1e4]));
}
