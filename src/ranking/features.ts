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
  if (a.length === b.length) return sameFrom(a, i + 1, b, i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && sameFrom(a, i + 2, b, i + 2));
  return a.length > b.length ? sameFrom(a, i + 1, b, i) : sameFrom(a, i, b, i + 1);
}

/** `a.slice(i) === b.slice(j)`, without the two strings. */
function sameFrom(a: string, i: number, b: string, j: number): boolean {
  if (Math.max(0, a.length - i) !== Math.max(0, b.length - j)) return false;
  for (; i < a.length; i++, j++) if (a.charCodeAt(i) !== b.charCodeAt(j)) return false;
  return true;
}

/**
 * The whole vector: the lexical and retrieval block, then the context block. It runs for every
 * candidate of every search (a few hundred), so it writes straight into the row: no arrays, sets
 * or closures per candidate.
 */
export function rankingFeatures(q: PreparedQuery, input: Omit<FeatureInput, 'query'>, signals: CandidateSignals = {}): Float32Array {
  const out = new Float32Array(RANKING_FEATURES.length);
  if (q.terms.length) writeLexicalFeatures(out, q, input);
  else writeRetrievalOnly(out, input);
  writeContextFeatures(out, signals, q.terms.length === 0);
  return out;
}

/** Each feature's place in the row. */
const F = Object.fromEntries(RANKING_FEATURES.map((name, i) => [name, i])) as Record<RankingFeatureName, number>;

function writeRetrievalOnly(out: Float32Array, input: Omit<FeatureInput, 'query'>): void {
  out[F.dense_cosine] = input.dense?.score ?? 0;
  out[F.dense_rank_log] = input.dense ? Math.log1p(input.dense.rank) : 0;
  out[F.dense_missing] = input.dense ? 0 : 1;
  out[F.bm25_missing] = 1;
  out[F.fused_rank_log] = Math.log1p(input.fusedRank);
  out[F.numbers_missing] = 1;
}

function writeContextFeatures(out: Float32Array, s: CandidateSignals, queryMissing: boolean): void {
  const e = s.engagement;
  out[F.cf_score] = s.cfScore ?? 0;
  out[F.cf_missing] = s.cfScore === undefined ? 1 : 0;
  out[F.category_affinity] = s.categoryAffinity ?? 0;
  out[F.merchant_affinity] = s.merchantAffinity ?? 0;
  out[F.affinity_missing] = s.categoryAffinity !== undefined || s.merchantAffinity !== undefined ? 0 : 1;
  out[F.popularity_log] = e ? Math.log1p(e.popularity) : 0;
  out[F.ctr_smoothed] = e ? (e.clicks + CTR_PRIOR.rate * CTR_PRIOR.impressions) / (e.impressions + CTR_PRIOR.impressions) : CTR_PRIOR.rate;
  out[F.engagement_missing] = e === undefined ? 1 : 0;
  out[F.age_days_log] = s.ageDays !== undefined ? Math.log1p(Math.max(0, s.ageDays)) : 0;
  out[F.expiry_days_log] = s.daysToExpiry !== undefined ? Math.log1p(Math.max(0, s.daysToExpiry)) : 0;
  out[F.validity_missing] = s.ageDays === undefined || s.daysToExpiry === undefined ? 1 : 0;
  out[F.discount_depth] = s.discountDepth ?? 0;
  out[F.discount_missing] = s.discountDepth === undefined ? 1 : 0;
  out[F.distance_km_log] = s.distanceKm !== undefined ? Math.log1p(s.distanceKm) : 0;
  out[F.distance_missing] = s.distanceKm === undefined ? 1 : 0;
  out[F.sponsored] = s.sponsored ?? 0;
  out[F.query_missing] = queryMissing ? 1 : 0;
  out[F.past_query_engagement_log] = s.pastQueries ? Math.log1p(s.pastQueries.sum) : 0;
  out[F.past_query_engagement_max_log] = s.pastQueries ? Math.log1p(s.pastQueries.max) : 0;
  out[F.past_query_missing] = s.pastQueries === undefined ? 1 : 0;
}

function writeLexicalFeatures(out: Float32Array, q: PreparedQuery, input: Omit<FeatureInput, 'query'>): void {
  const title = input.profile ?? titleProfile(input.title);
  const { terms: titleTerms, termSet: titleSet } = title;
  const { terms, idf } = q;
  const n = Math.max(1, terms.length);
  const { termCoverage: covered, bigramCoverage: bigrams } = titleMatch(q, titleTerms, titleSet);
  let prefix = 0,
    fuzzy = 0,
    idfTotal = 0,
    idfMatched = 0,
    unmatchedIdf = 0;
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i]!;
    const matched = titleSet.has(t);
    idfTotal += idf[i]!;
    idfMatched += matched ? idf[i]! : 0;
    unmatchedIdf = Math.max(unmatchedIdf, matched ? 0 : idf[i]!);
    if (matched || startsOrIsStartOfAny(t, titleTerms)) prefix++;
    if (matched || (t.length >= 4 && withinOneEditOfAny(t, titleTerms))) fuzzy++;
  }
  let numbers = 0;
  for (const x of q.numbers) if (titleSet.has(x)) numbers++;
  let titleCovered = 0;
  for (const t of titleTerms) if (terms.includes(t)) titleCovered++;
  let sharedTrigrams = 0;
  for (const g of q.trigrams) if (title.compact.includes(g)) sharedTrigrams++;
  out[F.dense_cosine] = input.dense?.score ?? 0;
  out[F.dense_rank_log] = input.dense ? Math.log1p(input.dense.rank) : 0;
  out[F.dense_missing] = input.dense ? 0 : 1;
  out[F.bm25_score] = input.bm25?.score ?? 0;
  out[F.bm25_rank_log] = input.bm25 ? Math.log1p(input.bm25.rank) : 0;
  out[F.bm25_missing] = input.bm25 ? 0 : 1;
  out[F.fused_rank_log] = Math.log1p(input.fusedRank);
  out[F.query_coverage] = covered;
  out[F.query_prefix_coverage] = prefix / n;
  out[F.bigram_coverage] = bigrams;
  out[F.exact_phrase] = q.text.length > 0 && title.normalised.includes(q.text) ? 1 : 0;
  out[F.numbers_matched] = q.numbers.length ? numbers / q.numbers.length : 0;
  out[F.numbers_missing] = q.numbers.length ? 0 : 1;
  out[F.first_term_match] = titleSet.has(terms[0]!) ? 1 : 0;
  out[F.last_term_match] = titleSet.has(terms.at(-1)!) ? 1 : 0;
  out[F.title_terms_log] = Math.log1p(titleTerms.length);
  out[F.query_terms] = terms.length;
  out[F.idf_coverage] = idfMatched / (idfTotal || 1);
  out[F.fuzzy_coverage] = fuzzy / n;
  out[F.unmatched_max_idf] = unmatchedIdf;
  out[F.title_coverage] = titleTerms.length ? titleCovered / titleTerms.length : 0;
  out[F.bm25_relative] = input.bm25 && q.maxBm25 > 0 ? input.bm25.score / q.maxBm25 : 0;
  out[F.trigram_query_coverage] = q.trigrams.size ? sharedTrigrams / q.trigrams.size : 0;
  out[F.trigram_jaccard] = sharedTrigrams / Math.max(1, q.trigrams.size + title.trigramCount - sharedTrigrams);
}

/** Whether a title term starts with `t`, or (three letters or more) is the start of it. */
function startsOrIsStartOfAny(t: string, titleTerms: readonly string[]): boolean {
  for (const x of titleTerms) if (x.startsWith(t) || (x.length >= 3 && t.startsWith(x))) return true;
  return false;
}

function withinOneEditOfAny(t: string, titleTerms: readonly string[]): boolean {
  for (const x of titleTerms) if (withinOneEdit(t, x)) return true;
  return false;
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
